"""Writing one page: every profile group's writes, as soon as they can go.

A page's records are grouped by profile key (see the engine).  Within a group the
profile is written once, first, when it has to be (unknown id, or its fields
changed); every subprofile write of the group then goes to the pool at once, as
soon as the profile id is known — an order's lines do not wait for each other.
Writes of the same subprofile (collection and key) keep their page order, in one
task.  Groups do not wait for each other at all: the pool always holds as many
writes as it has writers.

Failures are per record, as before: a write Copernica refuses for the record's
data (:data:`RECORD_ERRORS`) dead-letters that record; anything else stops the
page (nothing of it is committed, see the engine) and the writes not yet started
are not attempted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Protocol

from ..errors import (
    APIError,
    ConstraintError,
    CopernicaError,
    NotFoundError,
    UnsafeRequestError,
    ValidationError,
)
from .errors import MappingError

if TYPE_CHECKING:
    from ._workers import Workers
    from .mapping import MappedRecord, ProfileWrite, SubprofileWrite

__all__ = ["RECORD_ERRORS", "Aborted", "PageWriter", "WritableOutcome"]

#: Errors that condemn one record, not the run: the same call would fail again.
RECORD_ERRORS = (ConstraintError, ValidationError, UnsafeRequestError, MappingError, ValueError)


class Aborted(APIError):
    """A write not attempted because another write of the page failed first."""

    retryable = True


class WritableOutcome(Protocol):
    """What the writer reads and fills in on the engine's record outcome."""

    mapped: MappedRecord | None
    profile_id: int | None
    profile_unchanged: bool
    unchanged_subprofiles: frozenset[str]
    rekey_from: str | None
    wrote_profile: bool
    subprofiles_written: int
    dead_letter: str | None
    failure: CopernicaError | None


#: Writes a profile, re-keying it from the key given (or not): returns its id.
UpsertProfile = Callable[["ProfileWrite", "str | None"], int]
#: Writes one subprofile of the profile with the id given.
UpsertSubprofile = Callable[[int, "SubprofileWrite"], None]


def sub_id(sub: SubprofileWrite) -> str:
    """How :attr:`WritableOutcome.unchanged_subprofiles` names a subprofile."""
    return f"{sub.collection}\x1f{sub.key}"


class PageWriter:
    """Runs one page's groups on ``pool`` and waits for all of them (:meth:`write`,
    or :meth:`start` then :meth:`wait`).  One writer per page."""

    def __init__(self, pool: Workers, upsert_profile: UpsertProfile,
                 upsert_subprofile: UpsertSubprofile) -> None:
        self._pool = pool
        self._upsert_profile = upsert_profile
        self._upsert_subprofile = upsert_subprofile
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._running = 0
        self._error: BaseException | None = None

    def write(self, groups: Sequence[Sequence[WritableOutcome]]) -> None:
        """Write every group (the outcomes of one profile key, in page order) and
        return once no write of the page is left running."""
        self.start(groups)
        self.wait()

    def start(self, groups: Sequence[Sequence[WritableOutcome]]) -> None:
        """Hand every group to the pool and return; :meth:`wait` for the writes."""
        try:
            for group in groups:
                self._submit(_Group(group).start)
        except BaseException:
            self._stop.set()
            raise

    def wait(self) -> None:
        """Return once no write of the page is left running."""
        try:
            with self._done:
                while self._running:
                    self._done.wait()
        except BaseException:
            self._stop.set()  # interrupted: the writes not yet started are not attempted
            raise
        if self._error is not None:
            raise self._error  # a bug, not a write failure: it must not pass unseen

    def stop(self) -> None:
        """Attempt none of the writes not yet started (they end as :class:`Aborted`)."""
        self._stop.set()

    # -- used by _Group ------------------------------------------------------------

    def _submit(self, task: Callable[[PageWriter], None]) -> None:
        with self._lock:
            self._running += 1
        try:
            self._pool.spawn(partial(self._run, task))
        except BaseException:
            self._finished()
            raise

    def _run(self, task: Callable[[PageWriter], None]) -> None:
        try:
            task(self)
        except BaseException as exc:
            self._stop.set()
            self._error = self._error or exc
        finally:
            self._finished()

    def _finished(self) -> None:
        with self._done:
            self._running -= 1
            if not self._running:
                self._done.notify_all()


class _Group:
    """The writes of one profile key: the profile (if needed), then its subprofiles."""

    def __init__(self, outcomes: Sequence[WritableOutcome]) -> None:
        self.outcomes = outcomes
        self.lock = threading.Lock()
        #: The profile id the state knew (None: unknown), and whether the profile
        #: was written (or re-created) in this page.
        self.known = outcomes[0].profile_id
        self.written = False

    def start(self, writer: PageWriter) -> None:
        first = self.outcomes[0]
        assert first.mapped is not None
        needs_write = first.profile_id is None or not first.profile_unchanged
        if needs_write and not self._attempt(
                writer, self.outcomes, lambda: self._write_profile(writer, first.rekey_from)):
            return
        # Under the lock: a re-creation (below) sees either none or all of them sent.
        with self.lock:
            for outcome in self.outcomes:
                if outcome.dead_letter is None and outcome.failure is None:
                    self._send_subprofiles(writer, outcome)

    def _write_profile(self, writer: PageWriter, rekey_from: str | None) -> None:
        first = self.outcomes[0]
        assert first.mapped is not None
        profile_id = writer._upsert_profile(first.mapped.profile, rekey_from)
        with self.lock:
            self.written = True
            for outcome in self.outcomes:
                outcome.profile_id = profile_id
            first.wrote_profile = True

    def _send_subprofiles(self, writer: PageWriter, outcome: WritableOutcome) -> None:
        """Submit the outcome's subprofile writes, one task per subprofile key."""
        assert outcome.mapped is not None
        # Subprofiles Copernica already holds unchanged (an order's lines when only
        # its status changed) are skipped, unless the profile is not the one they
        # were on.
        skip = outcome.unchanged_subprofiles if outcome.profile_id == self.known \
            else frozenset()
        chains: dict[str, list[SubprofileWrite]] = {}
        for sub in outcome.mapped.subprofiles:
            if sub_id(sub) not in skip:
                chains.setdefault(sub_id(sub), []).append(sub)
        for chain in chains.values():
            writer._submit(self._subprofile_task(outcome, chain))

    def _subprofile_task(self, outcome: WritableOutcome,
                         chain: list[SubprofileWrite]) -> Callable[[PageWriter], None]:
        def task(writer: PageWriter) -> None:
            for sub in chain:
                if not self._attempt(writer, (outcome,),
                                     partial(self._write_subprofile, writer, outcome, sub)):
                    return
        return task

    def _write_subprofile(self, writer: PageWriter, outcome: WritableOutcome,
                          sub: SubprofileWrite) -> None:
        profile_id = outcome.profile_id
        assert profile_id is not None, "the profile is written first"
        try:
            writer._upsert_subprofile(profile_id, sub)
        except NotFoundError:
            if not self._recreate(writer, profile_id):
                raise
            self._write_subprofile(writer, outcome, sub)
            return
        with self.lock:
            outcome.subprofiles_written += 1

    def _recreate(self, writer: PageWriter, gone: int) -> bool:
        """The cached profile ``gone`` was removed in Copernica: create it again,
        once for the group, and resend every subprofile, skipped ones included.
        False when the profile was written in this page (then the error is real)."""
        with self.lock:
            first = self.outcomes[0]
            if first.profile_id != gone:
                return True  # another write of the group re-created it already
            if self.written:
                return False
            assert first.mapped is not None
            profile_id = writer._upsert_profile(first.mapped.profile, None)
            self.written = True
            first.wrote_profile = True
            for outcome in self.outcomes:
                outcome.profile_id = profile_id
                outcome.subprofiles_written = 0
        # The skipped subprofiles are on the removed profile only: send them too.
        for outcome in self.outcomes:
            assert outcome.mapped is not None
            if outcome.dead_letter is not None or outcome.failure is not None:
                continue
            for sub in outcome.mapped.subprofiles:
                if sub_id(sub) in outcome.unchanged_subprofiles:
                    writer._submit(self._subprofile_task(outcome, [sub]))
        return True

    def _attempt(self, writer: PageWriter, outcomes: Sequence[WritableOutcome],
                 write: Callable[[], None]) -> bool:
        """Run one write for ``outcomes``; False when they must not go on."""
        if writer._stop.is_set():
            with self.lock:
                for outcome in outcomes:
                    outcome.failure = outcome.failure or Aborted(
                        "stopped after an earlier failure")
            return False
        try:
            write()
            return True
        except RECORD_ERRORS as exc:
            with self.lock:
                for outcome in outcomes:
                    outcome.dead_letter = outcome.dead_letter or str(exc)
        except CopernicaError as exc:
            with self.lock:
                for outcome in outcomes:
                    outcome.failure = exc
            writer._stop.set()  # the page will not be committed; don't pile on more writes
        return False
