"""The heavy kernels whose peak memory ``tests/bench_memory.py`` measures, one module per
chapter. Each module defines::

    KERNELS = {"name": (setup, run, (n_tokens, n_neurons))}

``setup(n_tokens, n_neurons, device)`` builds the kernel's inputs (at the base sizes times a
factor) and returns them; ``run(inputs)`` calls the kernel. Only the memory that ``run`` adds
on top of its inputs is measured.

A kernel with a third data dimension (K masks, G probes, V vocabulary entries, T steps) gives
``"name": (setup, run)`` instead, with ``setup(factor, device)`` scaling every data dimension
by ``factor``: a (K, N, D) tensor then grows like ``factor**3`` and is caught, where scaling
only tokens and neurons would let it grow like the inputs.
"""
