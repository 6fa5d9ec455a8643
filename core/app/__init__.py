"""The composition root: the only place that imports every package and wires them together."""
