"""The gas benchmark (:mod:`~link_ops.gas.bench`, on a chain), its report (:mod:`~link_ops.gas.report`,
pure), the rendering (:mod:`~link_ops.gas.render`: markdown, JSON, and a plot with the ``[report]``
extra) and the snapshot check (:mod:`~link_ops.gas.snapshot`)."""
