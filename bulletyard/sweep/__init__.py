"""Many simulations at once: sizing sweeps on Ray (``bulletyard sweep``) and KPI checks
(``bulletyard check``). Ray is imported only by :mod:`bulletyard.sweep.executor`."""
