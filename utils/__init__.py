"""Shared compute kernels for the book *Neurons in Language Models*.

One module per concept: ``corpus`` (annotated text), ``models`` (encoders and spaCy),
``activations`` (per-word representations), ``probes`` (batched linear probes),
``cache`` (content-keyed disk cache), ``runtime`` (device, seeds, scales),
``results`` (recorded numbers and claims), ``plotting`` and ``widgets``.
No module imports a chapter.
"""

__version__ = "0.1.0"
