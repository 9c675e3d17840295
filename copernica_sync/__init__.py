"""The ``copernica-sync`` side of the distribution: ``copernica_sync.cli`` and ``copernica_sync.connectors``.

The repository keeps ``cli/`` and ``connectors/`` at its top; the wheel installs them under this
package (``[tool.hatch.build.targets.wheel.sources]`` in pyproject.toml), so the distribution never
claims a top-level ``cli`` or ``connectors`` that another distribution may own.  In a source
checkout, ``copernica_sync/cli`` and ``copernica_sync/connectors`` are symbolic links to those
folders, which is what an editable install (``pip install -e .``, through ``.editable/``) and
mypy import.
"""
