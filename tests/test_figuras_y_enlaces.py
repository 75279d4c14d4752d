"""Las figuras se regeneran con su script y todos los enlaces relativos del curso apuntan a algo que existe."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

RAIZ = Path(__file__).resolve().parent.parent
ENLACE = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)|<img[^>]+src=\"([^\"]+)\"")


def _archivos_versionados(sufijo):
    salida = subprocess.run(["git", "ls-files", f"*{sufijo}"], cwd=RAIZ, capture_output=True, text=True)
    if salida.returncode != 0:  # fuera de un repositorio git: todos los del árbol
        return sorted(p for p in RAIZ.rglob(f"*{sufijo}") if ".ipynb_checkpoints" not in p.parts)
    return [RAIZ / linea for linea in salida.stdout.splitlines()]


def _textos_markdown():
    for cuaderno in _archivos_versionados(".ipynb"):
        celdas = json.loads(cuaderno.read_text(encoding="utf-8"))["cells"]
        for celda in celdas:
            if celda["cell_type"] == "markdown":
                yield cuaderno, "".join(celda["source"])
    for md in _archivos_versionados(".md"):
        yield md, md.read_text(encoding="utf-8")


def test_enlaces_relativos_existen():
    rotos = []
    for origen, texto in _textos_markdown():
        texto = re.sub(r"```.*?```", "", texto, flags=re.DOTALL)  # los bloques de código no son enlaces
        for grupo in ENLACE.findall(texto):
            destino = (grupo[0] or grupo[1]).split("#")[0]
            if not destino or "://" in destino or destino.startswith("mailto:"):
                continue
            if not (origen.parent / destino).exists():
                rotos.append(f"{origen.relative_to(RAIZ)} -> {destino}")
    assert not rotos, "Enlaces rotos:\n" + "\n".join(rotos)


def _generar(destino: Path):
    sys.path.insert(0, str(RAIZ / "imgs"))
    try:
        import generar_figuras

        return generar_figuras.generar(destino)
    finally:
        sys.path.remove(str(RAIZ / "imgs"))


@pytest.fixture(scope="module")
def figuras_generadas(tmp_path_factory):
    destino = tmp_path_factory.mktemp("figuras")
    return destino, _generar(destino)


def test_cada_figura_generada_esta_en_el_repositorio(figuras_generadas):
    destino, rutas = figuras_generadas
    assert rutas, "El script no ha generado ninguna figura."
    for ruta in rutas:
        relativa = ruta.relative_to(destino)
        guardada = RAIZ / "imgs" / relativa
        assert guardada.exists(), f"Falta imgs/{relativa}: ejecuta python imgs/generar_figuras.py y añádela."
        with Image.open(ruta) as nueva, Image.open(guardada) as vieja:
            assert nueva.size == vieja.size, f"imgs/{relativa} no es la que dibuja el script: regenérala."


def test_el_script_de_figuras_es_determinista(figuras_generadas, tmp_path):
    destino, rutas = figuras_generadas
    otra_vez = _generar(tmp_path)
    assert [r.relative_to(tmp_path) for r in otra_vez] == [r.relative_to(destino) for r in rutas]
    for a, b in zip(rutas, otra_vez, strict=True):
        assert a.read_bytes() == b.read_bytes(), f"{a.name} cambia de una ejecución a otra."
