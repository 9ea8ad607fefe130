"""The full-scale code path of each chapter, on tiny inputs (``make smoke``).

One module per chapter, named after its runner name, defines::

    def parameters(workdir: pathlib.Path) -> dict[str, object]

the ``-p`` overrides that run the chapter at ``SCALE="full"`` with every size made tiny, its
models and data files written into ``workdir`` first (tiny real-format models from
:mod:`tests.tiny_models`, small files in each paper's format). ``tests/test_smoke.py`` runs
every chapter with them and fails on any error.
"""
