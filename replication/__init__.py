"""Run a chapter of the book headless at a chosen scale and compare it with its paper.

``python -m replication run CHAPTER --scale ci|default|full --device auto|cpu|cuda``
"""
