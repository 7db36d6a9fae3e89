"""A local HubSpot tickets emulator for tests, demos and benchmarks.

>>> from pandas_hubtickets.testing import FakeHubSpot, Faults
"""

from .emulator import FakeHubSpot, RequestRecord, record_bodies
from .limits import Faults

__all__ = ["FakeHubSpot", "Faults", "RequestRecord", "record_bodies"]
