"""Complemento de pytest: nbval compara los decimales con tolerancia (ver tests/toleranciaNumerica.py).

Se activa desde conftest.py; también se puede cargar a mano con `pytest -p tests.pluginNbval`.
"""

from __future__ import annotations

from tests import toleranciaNumerica

try:
    from nbval.plugin import IPyNbCell
except ImportError:  # sin nbval solo se ejecutan las pruebas unitarias
    IPyNbCell = None

if IPyNbCell is not None and not getattr(IPyNbCell, "_tolerancia_instalada", False):
    _compare_outputs_original = IPyNbCell.compare_outputs

    def _compare_outputs_con_tolerancia(self, test, ref, skip_compare=None):
        rtol = toleranciaNumerica.tolerancia_de_celda(self.cell.source)
        test = toleranciaNumerica.reconciliar_salidas(test, ref, rtol)
        return _compare_outputs_original(self, test, ref, skip_compare)

    IPyNbCell.compare_outputs = _compare_outputs_con_tolerancia
    IPyNbCell._tolerancia_instalada = True
