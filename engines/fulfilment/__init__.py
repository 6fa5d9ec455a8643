"""Fulfilment: the durable stories of an order, a payment, a day's settlement and a new service.

Workflows run on Temporal (`workflows.py`), their activities call the engines through the ports
(`ports.py`, adapters in `adapters.py`), every activity's effect happens once (`effects.py`), and
the edges start and signal workflows through `gateway.py`. Nothing is re-exported here: Temporal's
sandbox imports this package afresh for workflow code, so it must stay free of database imports;
import from the modules.
"""
