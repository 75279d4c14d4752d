"""El código que enseñan los cuadernos y el de los módulos no se separan.

Una celda que define lo mismo que un módulo empieza con `# Igual que en <ruta del módulo>.py` (tests/cuadernos.py
explica la regla). Estas pruebas recorren todos los cuadernos del repositorio y comprueban, para cada par
(cuaderno, nombre), que lo marcado coincide con su módulo y que nada de lo que exporta un módulo se vuelve a definir
sin la marca; al final, las pruebas de la propia maquinaria, con cuadernos de juguete.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.cuadernos import (
    casos_de_marcas,
    casos_de_nombres,
    celdas_de_codigo,
    cuadernos_del_repositorio,
    leer_marca,
    nombres_exportados,
    problemas_de_marca,
    problemas_de_nombre,
)

CASOS_DE_NOMBRES = casos_de_nombres()
CASOS_DE_MARCAS = casos_de_marcas()


@pytest.fixture(scope="module")
def exportados():
    return nombres_exportados()


@pytest.mark.parametrize(("cuaderno", "nombre"), CASOS_DE_NOMBRES, ids=[f"{c}:{n}" for c, n in CASOS_DE_NOMBRES])
def test_el_cuaderno_y_el_modulo_coinciden(cuaderno, nombre, exportados):
    problemas = problemas_de_nombre(cuaderno, nombre, exportados=exportados)
    if problemas:
        pytest.fail("\n".join(problemas), pytrace=False)


@pytest.mark.parametrize(("cuaderno", "indice"), CASOS_DE_MARCAS, ids=[f"{c}:celda{i}" for c, i in CASOS_DE_MARCAS])
def test_la_marca_esta_bien_escrita_y_su_modulo_existe(cuaderno, indice):
    (celda,) = [c for c in celdas_de_codigo(cuaderno) if c.indice == indice]
    problemas = problemas_de_marca(cuaderno, celda)
    if problemas:
        pytest.fail("\n".join(problemas), pytrace=False)


def test_recorre_todos_los_cuadernos_y_encuentra_las_marcas():
    """Si el recorrido no encontrara nada, las pruebas de arriba pasarían sin comprobar nada."""
    cuadernos = cuadernos_del_repositorio()
    assert "seccion05/soluciones.ipynb" in cuadernos
    marcados = {c for c, _ in CASOS_DE_MARCAS}
    for seccion in ("seccion02_", "seccion03_", "seccion04_", "seccion05/"):
        assert any(c.startswith(seccion) for c in marcados), f"Ningún cuaderno de {seccion} tiene celdas marcadas."
    assert len(CASOS_DE_NOMBRES) >= 30


# --- La maquinaria, con un repositorio de juguete ---------------------------------------------------------------------

MODULO = '''"""Un módulo de juguete."""

LIMITE = 10  # el de verdad

TABLA = {"a": 1, "b": 2}


def doble(x):
    """Docstring del módulo."""
    return 2 * x  # comentario del módulo


class Caja:
    def abrir(self):
        return LIMITE


def _ayuda():
    return 1
'''


def _cuaderno(raiz, ruta, *celdas):
    """Escribe un cuaderno con una celda de código por cada texto de `celdas` (y una de markdown delante)."""
    cuaderno = {
        "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Título"]}]
        + [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": [c]} for c in celdas],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }
    (raiz / ruta).parent.mkdir(parents=True, exist_ok=True)
    (raiz / ruta).write_text(json.dumps(cuaderno, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return ruta


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "seccion05").mkdir()
    (tmp_path / "seccion05" / "juguete.py").write_text(MODULO, encoding="utf-8")
    (tmp_path / "seccion05" / "otro.py").write_text("def triple(x):\n    return 3 * x\n", encoding="utf-8")
    return tmp_path


def _todos_los_problemas(raiz):
    exportados = nombres_exportados(raiz)
    problemas = [p for c, n in casos_de_nombres(raiz) for p in problemas_de_nombre(c, n, raiz, exportados)]
    for cuaderno in {c for c, _ in casos_de_marcas(raiz)}:
        for celda in celdas_de_codigo(cuaderno, raiz):
            problemas += problemas_de_marca(cuaderno, celda, raiz)
    return problemas


IGUAL = '''# Igual que en seccion05/juguete.py
def doble(x):
    """Otra docstring: no cuenta."""
    # un comentario que el módulo no tiene
    return 2 * x
'''


def test_leer_marca():
    assert leer_marca("# Igual que en seccion05/calcLoss.py") == ("seccion05/calcLoss.py",)
    assert leer_marca("# Igual que en a/b.py y c/d.py") == ("a/b.py", "c/d.py")
    assert leer_marca("# igual que en seccion05/calcLoss.py") is None
    assert leer_marca("# Igual que en seccion05/calcLoss") is None


def test_solo_docstrings_y_comentarios_distintos_pasa(repo):
    _cuaderno(repo, "seccion05/1_c.ipynb", "x = 1", IGUAL, '# Igual que en seccion05/juguete.py\nLIMITE = 10\n'
              'TABLA = {\n    "a": 1,  # comentado\n    "b": 2,\n}\n\n\nclass Caja:\n    """Con docstring."""\n\n'
              '    def abrir(self):\n        return LIMITE\n')
    assert casos_de_nombres(repo) == [("seccion05/1_c.ipynb", n) for n in ("Caja", "LIMITE", "TABLA", "doble")]
    assert _todos_los_problemas(repo) == []


def test_un_cuerpo_cambiado_falla(repo):
    _cuaderno(repo, "seccion05/1_c.ipynb", "x = 1", IGUAL.replace("2 * x", "x + x"))
    (problema,) = _todos_los_problemas(repo)
    assert problema.startswith("seccion05/1_c.ipynb, celda 2: doble ya no coincide con el de seccion05/juguete.py")


def test_una_constante_cambiada_falla(repo):
    _cuaderno(repo, "seccion05/1_c.ipynb", '# Igual que en seccion05/juguete.py\nTABLA = {"a": 1, "b": 3}\n')
    (problema,) = _todos_los_problemas(repo)
    assert "celda 1: TABLA ya no coincide con el de seccion05/juguete.py" in problema


def test_sin_marca_falla(repo):
    _cuaderno(repo, "seccion05/1_c.ipynb", IGUAL.split("\n", 1)[1], "LIMITE = 3\n\n\ndef _ayuda():\n    return 2\n")
    problemas = _todos_los_problemas(repo)
    assert len(problemas) == 2, problemas  # lo privado (_ayuda) no se exporta: se puede definir sin marca
    assert problemas[0].startswith("seccion05/1_c.ipynb, celda 2: define 'LIMITE', que ya exporta seccion05/juguete.py")
    assert problemas[1].startswith("seccion05/1_c.ipynb, celda 1: define 'doble', que ya exporta seccion05/juguete.py")
    assert "from seccion05.juguete import doble" in problemas[1]


def test_una_ruta_de_modulo_equivocada_falla(repo):
    _cuaderno(repo, "seccion05/1_c.ipynb", IGUAL.replace("juguete.py", "jugete.py"))
    problemas = _todos_los_problemas(repo)
    assert any("celda 1: la marca nombra seccion05/jugete.py, que no existe" in p for p in problemas), problemas
    assert any("define 'doble' y su marca nombra seccion05/jugete.py, que no existe" in p for p in problemas)


def test_un_nombre_que_el_modulo_no_tiene_falla(repo):
    _cuaderno(repo, "seccion05/1_c.ipynb", IGUAL + "\n\ndef mitad(x):\n    return x / 2\n\n\nPASOS = 3\n")
    problemas = _todos_los_problemas(repo)
    assert len(problemas) == 2, problemas
    assert all(p.startswith("seccion05/1_c.ipynb, celda 1: define '") for p in problemas)
    assert {p.split("'")[1] for p in problemas} == {"mitad", "PASOS"}
    assert "pero seccion05/juguete.py no lo define" in problemas[0]


def test_lo_privado_marcado_se_compara(repo):
    _cuaderno(repo, "seccion05/1_c.ipynb", "# Igual que en seccion05/juguete.py\ndef _ayuda():\n    return 2\n")
    (problema,) = _todos_los_problemas(repo)
    assert "_ayuda ya no coincide" in problema


def test_marcas_mal_escritas_o_fuera_de_sitio_fallan(repo):
    _cuaderno(repo, "seccion05/1_c.ipynb",
              IGUAL.replace("# Igual que en", "# igual que en"),
              "import math\n" + IGUAL,
              "# Igual que en seccion05/juguete.py\nimport math\n",
              "x = 2\n# Igual que en el apartado 2, x vale 2\n")  # un comentario cualquiera: no es una marca
    problemas = _todos_los_problemas(repo)
    assert not any("celda 4" in p for p in problemas), problemas
    assert any("celda 1: la línea 1 «# igual que en seccion05/juguete.py» parece una marca" in p for p in problemas)
    assert any("celda 2: la marca «# Igual que en seccion05/juguete.py» está en la línea 2" in p for p in problemas)
    assert any("celda 3: lleva la marca" in p and "no define ninguna función" in p for p in problemas)
    # sin marca válida, doble queda sin marcar (celdas 1 y 2)
    assert sum("define 'doble', que ya exporta" in p for p in problemas) == 2


def test_una_celda_con_dos_modulos(repo):
    dos = "# Igual que en seccion05/juguete.py y seccion05/otro.py\n" + IGUAL.split("\n", 1)[1]
    _cuaderno(repo, "seccion05/1_c.ipynb", dos + "\n\ndef triple(x):\n    return 3 * x\n")
    assert _todos_los_problemas(repo) == []
    _cuaderno(repo, "seccion05/1_c.ipynb", dos)  # otro.py sobra en la marca
    (problema,) = _todos_los_problemas(repo)
    assert "la marca nombra seccion05/otro.py, pero la celda no define nada de ese módulo" in problema


def test_se_salta_los_checkpoints(repo):
    _cuaderno(repo, "seccion05/.ipynb_checkpoints/1_c-checkpoint.ipynb", "def doble(x):\n    return x\n")
    _cuaderno(repo, "seccion05/1_c.ipynb", IGUAL)
    assert cuadernos_del_repositorio(repo) == ["seccion05/1_c.ipynb"]
    assert _todos_los_problemas(repo) == []


@pytest.mark.skipif(shutil.which("git") is None, reason="hace falta git")
def test_se_salta_lo_que_git_ignora(repo):
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".gitignore").write_text("borradores/\n", encoding="utf-8")
    _cuaderno(repo, "borradores/prueba.ipynb", "def doble(x):\n    return x\n")
    _cuaderno(repo, "seccion05/1_c.ipynb", IGUAL)  # sin añadir a git: cuenta igual
    assert cuadernos_del_repositorio(repo) == ["seccion05/1_c.ipynb"]


def test_cuenta_lo_de_ejercicios_y_no_lo_reexportado(repo):
    (repo / "seccion05" / "ejercicios.py").write_text(
        "from seccion05.juguete import doble\n\nCFG = {}\n\n\ndef miles(n):\n    return str(n)\n", encoding="utf-8"
    )
    exportados = nombres_exportados(repo)
    assert exportados["miles"] == ["seccion05/ejercicios.py"]
    assert exportados["doble"] == ["seccion05/juguete.py"]  # ejercicios.py solo lo importa
    assert "_ayuda" not in exportados
    _cuaderno(repo, "seccion05/1_c.ipynb", "# Igual que en seccion05/ejercicios.py\n" + IGUAL.split("\n", 1)[1])
    (problema,) = _todos_los_problemas(repo)
    assert "define 'doble', pero seccion05/ejercicios.py no lo define" in problema
