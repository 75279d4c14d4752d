"""Complemento de pytest: nbval compara las salidas de los cuadernos con tolerancia.

- Los textos (flujos y `text/plain`), con la tolerancia numérica de tests/toleranciaNumerica.py: la de por
  defecto o la que pide la celda con la etiqueta `nbval-tolerancia=1e-3` (o el comentario inicial
  `# nbval-tolerancia: rtol=1e-3`).
- Las imágenes `image/png`, que nbval no compara, con tests/comparacionImagenes.py; una celda con la etiqueta
  `nbval-sin-imagen` no compara sus imágenes (gráficas de tiempos medidos en cada ejecución).

Lo compatible se sustituye por lo guardado antes de que nbval compare, y nbval informa de lo demás con su
diferencia; las imágenes distintas se añaden a su informe con un mensaje en castellano. Las celdas que nbval no
compara (`nbval-ignore-output`, `# NBVAL_IGNORE_OUTPUT`, `nbval-skip`) siguen sin compararse.

Se activa desde conftest.py; también se puede cargar a mano con `pytest -p tests.pluginNbval`.
"""

from __future__ import annotations

from tests import comparacionImagenes, toleranciaNumerica

try:
    from nbval.plugin import IPyNbCell
except ImportError:  # sin nbval solo se ejecutan las pruebas unitarias
    IPyNbCell = None


def _etiquetas(celda) -> list[str]:
    etiquetas = celda.get("metadata", {}).get("tags", [])
    return etiquetas if isinstance(etiquetas, list) else []


if IPyNbCell is not None and not getattr(IPyNbCell, "_tolerancia_instalada", False):
    _compare_outputs_original = IPyNbCell.compare_outputs

    def _compare_outputs_con_tolerancia(self, test, ref, skip_compare=None):
        etiquetas = _etiquetas(self.cell)
        rtol = toleranciaNumerica.tolerancia_de_celda(self.cell.source, etiquetas)
        test = toleranciaNumerica.reconciliar_salidas(test, ref, rtol)
        comparar_imagenes = comparacionImagenes.ETIQUETA_SIN_IMAGEN not in etiquetas
        test, mensajes = comparacionImagenes.reconcile_images(test, ref, compare=comparar_imagenes)
        iguales = _compare_outputs_original(self, test, ref, skip_compare)
        if mensajes:
            self.comparison_traceback.extend(self.colors.FAIL + mensaje + self.colors.ENDC for mensaje in mensajes)
            return False
        return iguales

    IPyNbCell.compare_outputs = _compare_outputs_con_tolerancia
    IPyNbCell._tolerancia_instalada = True
