"""The heavy kernels whose peak memory ``tests/bench_memory.py`` measures, one module per
chapter. Each module defines::

    KERNELS = {"name": (setup, run, (n_tokens, n_neurons))}

``setup(n_tokens, n_neurons, device)`` builds the kernel's inputs (at the base sizes times a factor)
and returns them; ``run(inputs)`` calls the kernel. Only the memory that ``run`` adds on top of
its inputs is measured.
"""
