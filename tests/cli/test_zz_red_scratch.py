from .conftest import describe, ok

def run(project, *a):
    r = project.invoke(*a)
    text = describe(r)
    print(a, r.exit_code, "TRACEBACK" if "Traceback" in text else "")
    if "Traceback" in text or r.exit_code not in (0, 1):
        print(text[-3000:])
    return r

def test_probe(ready):
    shop = ready.shop
    cs = shop.customers
    os_ = shop.orders
    garbage = [
        dict(email=["x@example.com"]), dict(billing="str"), dict(first_name={"a": 1}),
        dict(date_modified_gmt=12345), dict(date_created_gmt=None, date_modified_gmt=None),
        dict(email="not-an-email"), dict(email=""), dict(meta_data="x"), dict(role=5),
    ]
    for c, g in zip(cs, garbage):
        shop.update_customer(c["id"], **g)
    ogarbage = [dict(total="abc"), dict(line_items="x"), dict(billing=None), dict(status=5),
                dict(date_created_gmt="garbage"), dict(refunds="x"), dict(customer_id="abc"),
                dict(total=float("nan")), dict(line_items=[5, None]), dict(billing={"email": 7}),
                dict(date_modified_gmt=[1]), dict(refunds=[{"total": "x"}]), dict(currency=None),
                dict(total="1e400"), dict(date_created_gmt="2026-13-45T99:00:00")]
    for o, g in zip(os_, ogarbage):
        try:
            shop.update_order(o["id"], **g)
        except Exception as e:
            print("cannot", g, e)
    run(ready, "run")
    r = run(ready, "dlq", "list")
    print(r.output[-3000:])
    run(ready, "run")
    run(ready, "state", "show")
