"""A Daraja emulator shipped with pesadesk: our stripe-mock for M-Pesa.

Used in process by tests (`pesadesk.testing.emulator`) and standalone by
`pesadesk emulator`. It imitates Daraja's paths, validation, answers and callbacks.
"""

from pesadesk.emulator.app import create_emulator_app
from pesadesk.emulator.state import EmulatorConfig, EmulatorState

__all__ = ["EmulatorConfig", "EmulatorState", "create_emulator_app"]
