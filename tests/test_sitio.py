"""El curso como sitio web (`python -m sitio.construir`): se construye sin avisos y se ve bien en un navegador.

Se construye una vez, en una carpeta temporal y con los avisos como errores (`--estricto`), y se comprueba: una página
por cuaderno y por README, en español, con el índice en el orden de la tabla «Contenido»; que existen todas las
imágenes y todos los destinos de los enlaces internos (también sus #anclas); que no se ve ningún traceback; y que el
glosario tiene un ancla por término. Después, Chromium sin interfaz y sin red abre las páginas (file://) y se comprueba
que se ven la portada, un cuaderno con su figura, las fórmulas compuestas por MathJax, los botones de copiar y el
buscador. Sin Sphinx (requirements-sitio.txt) o sin Chromium, esas pruebas se saltan y dicen por qué.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from sitio import construir
from sitio.indice import anclas_termino, leer_contenido

RAIZ = Path(__file__).resolve().parents[1]
CUADERNO_EVALUACION = "seccion05/1_evaluando_modelos_texto"
CON_FORMULAS = "seccion03_MecanismosAtencion/1_mecanismos_atencion"  # el cuaderno con más fórmulas

necesita_sphinx = pytest.mark.skipif(
    bool(construir.faltan()),
    reason=f"Faltan {', '.join(construir.faltan())}: para probar el sitio, instálalos con "
    "pip install -r requirements-sitio.txt",
)


def _versionados(patron: str) -> list[str]:
    salida = subprocess.run(["git", "ls-files", patron], cwd=RAIZ, capture_output=True, text=True)
    if salida.returncode != 0:
        pytest.skip("Hace falta un repositorio git para saber qué archivos están versionados.")
    return salida.stdout.splitlines()


class _Etiquetas(HTMLParser):
    """Reúne, de una página HTML, los ids, los href/src y el atributo lang de <html>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.enlaces: list[tuple[str, str]] = []  # (etiqueta, destino)
        self.imagenes: list[str] = []
        self.lang: str | None = None

    def handle_starttag(self, tag, attrs):
        atributos = dict(attrs)
        if atributos.get("id"):
            self.ids.add(atributos["id"])
        if tag == "html":
            self.lang = atributos.get("lang")
        if tag == "img" and atributos.get("src"):
            self.imagenes.append(atributos["src"])
        for nombre in ("href", "src"):
            if atributos.get(nombre):
                self.enlaces.append((tag, atributos[nombre]))


def _analizar(pagina: Path) -> _Etiquetas:
    etiquetas = _Etiquetas()
    etiquetas.feed(pagina.read_text(encoding="utf-8"))
    return etiquetas


@pytest.fixture(scope="module")
def sitio(tmp_path_factory) -> Path:
    """Construye el sitio con la orden del README, con los avisos como errores, y devuelve su carpeta html."""
    if construir.faltan():
        pytest.skip(f"Faltan {', '.join(construir.faltan())}: instálalos con pip install -r requirements-sitio.txt")
    salida = tmp_path_factory.mktemp("sitio")
    proceso = subprocess.run(
        [sys.executable, "-m", "sitio.construir", "--salida", str(salida), "--estricto"],
        cwd=RAIZ, capture_output=True, text=True, timeout=600,
    )
    assert proceso.returncode == 0, f"El sitio no se construye sin avisos:\n{proceso.stdout}\n{proceso.stderr}"
    return salida / "html"


@pytest.fixture(scope="module")
def paginas(sitio) -> dict[Path, _Etiquetas]:
    """Cada página HTML del sitio (sin las de MathJax), ya analizada."""
    return {p: _analizar(p) for p in sorted(sitio.rglob("*.html")) if "_static" not in p.relative_to(sitio).parts}


# -- El índice y las anclas, sin construir nada -----------------------------------------------------------------------

def test_el_indice_sale_de_la_tabla_contenido(tmp_path):
    secciones = leer_contenido(RAIZ / "README.md")
    cuadernos = [c for s in secciones for c in s.cuadernos]
    assert cuadernos == sorted(set(cuadernos), key=cuadernos.index), "Un cuaderno aparece dos veces en la tabla."
    assert sorted(cuadernos) == sorted(_versionados("*.ipynb")), (
        "La tabla «Contenido» del README y los cuadernos versionados (git ls-files) no coinciden: cada cuaderno "
        "necesita su fila en la tabla, y cada fila, su cuaderno versionado."
    )
    # Una fila nueva en la tabla es un cuaderno más en el índice, sin tocar sitio/conf.py.
    readme = (RAIZ / "README.md").read_text(encoding="utf-8")
    ultima = "| | [Soluciones de los ejercicios](seccion05/soluciones.ipynb) |"
    assert ultima in readme
    (tmp_path / "seccion05").mkdir()
    for cuaderno in ("soluciones.ipynb", "8_nuevo.ipynb"):
        (tmp_path / "seccion05" / cuaderno).write_text("{}", encoding="utf-8")
    for seccion in secciones:
        for cuaderno in seccion.cuadernos:
            (tmp_path / cuaderno).parent.mkdir(exist_ok=True)
            (tmp_path / cuaderno).touch()
    nuevo = readme.replace(ultima, "| | [8. Nuevo](seccion05/8_nuevo.ipynb) | Algo más |\n" + ultima)
    (tmp_path / "README.md").write_text(nuevo, encoding="utf-8")
    otra = leer_contenido(tmp_path / "README.md")
    assert otra[-1].cuadernos[-2:] == ["seccion05/8_nuevo.ipynb", "seccion05/soluciones.ipynb"]


def test_el_indice_explica_lo_que_esta_mal(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Curso\n\nSin tabla.\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no tiene el apartado «## Contenido»"):
        leer_contenido(readme)
    tabla = "| Sección | Cuaderno | Qué |\n|---|---|---|\n| 1. A | [x](a/falta.ipynb) | y |\n"
    readme.write_text("## Contenido\n\n" + tabla, encoding="utf-8")
    with pytest.raises(ValueError, match="enlaza a/falta.ipynb, que no existe"):
        leer_contenido(readme)


def test_anclas_de_los_terminos():
    assert anclas_termino("entropía cruzada") == ["entropia-cruzada"]
    assert anclas_termino("atajo, conexión residual") == ["atajo-conexion-residual", "atajo", "conexion-residual"]
    assert anclas_termino("BPE (codificación por pares de bytes)") == ["bpe-codificacion-por-pares-de-bytes", "bpe"]


def test_sin_sphinx_dice_que_instalar(monkeypatch):
    monkeypatch.setitem(construir.NECESARIOS, "modulo_que_no_existe_xyz", "paquete-que-falta")
    with pytest.raises(SystemExit, match=r"paquete-que-falta.*pip install -r requirements-sitio\.txt"):
        construir.construir(RAIZ / "no-se-crea")
    assert not (RAIZ / "no-se-crea").exists()


# -- El sitio construido ----------------------------------------------------------------------------------------------

@necesita_sphinx
def test_una_pagina_por_cuaderno_y_por_readme(sitio):
    fuentes = _versionados("*.ipynb") + _versionados("*README.md") + ["GLOSARIO.md"]
    faltan = [f for f in fuentes if not (sitio / Path(f).with_suffix(".html")).is_file()]
    assert not faltan, f"Sin página en el sitio: {faltan}"
    assert (sitio / "index.html").is_file(), "Falta index.html, lo que abre un servidor en la raíz del sitio."
    portada = (sitio / "index.html").read_text(encoding="utf-8")
    assert 'url=README.html"' in portada, "index.html no lleva a la portada, README.html."


@necesita_sphinx
def test_el_indice_lateral_sigue_la_tabla_contenido(sitio):
    """En la barra lateral de la portada: cada sección (su README) y debajo sus cuadernos, en el orden del README."""
    esperado = []
    for seccion in leer_contenido(RAIZ / "README.md"):
        esperado += [f"{seccion.carpeta}/README.html"] + [str(Path(c).with_suffix(".html")) for c in seccion.cuadernos]
    html = (sitio / "README.html").read_text(encoding="utf-8")
    lateral = html[html.index("bd-docs-nav"):]
    lateral = lateral[: lateral.index("</nav>")]
    enlaces = [h for h in re.findall(r'href="([^"#]+)"', lateral) if h.startswith("seccion")]
    assert enlaces == esperado, "La barra lateral no sigue el orden de la tabla «Contenido» del README."
    assert 'href="GLOSARIO.html"' in lateral


@necesita_sphinx
def test_todo_en_espanol(paginas):
    sin_es = [str(p) for p, etiquetas in paginas.items() if etiquetas.lang != "es"]
    assert not sin_es, f'Páginas sin <html lang="es">: {sin_es}'


@necesita_sphinx
def test_cada_imagen_existe_y_cada_figura_se_muestra(sitio, paginas):
    rotas = [f"{p.relative_to(sitio)} -> {src}" for p, etiquetas in paginas.items() for src in etiquetas.imagenes
             if "://" not in src and not src.startswith("data:") and not (p.parent / unquote(src)).is_file()]
    assert not rotas, "Imágenes que no existen:\n" + "\n".join(rotas)
    # Cada cuaderno muestra tantas imágenes como figuras enlaza su texto más gráficas guardadas en sus salidas.
    pocas = []
    for cuaderno in _versionados("*.ipynb"):
        celdas = json.loads((RAIZ / cuaderno).read_text(encoding="utf-8"))["cells"]
        figuras = sum(len(re.findall(r"!\[[^\]]*\]\(|<img ", "".join(c["source"]))) for c in celdas
                      if c["cell_type"] == "markdown")
        graficas = sum("image/png" in s.get("data", {}) for c in celdas for s in c.get("outputs", []))
        pagina = sitio / Path(cuaderno).with_suffix(".html")
        mostradas = len([i for i in paginas[pagina].imagenes if i.startswith("../_images/")])
        if mostradas < figuras + graficas:
            pocas.append(f"{cuaderno}: {mostradas} imágenes de {figuras} figuras y {graficas} gráficas")
    assert not pocas, "Faltan imágenes en:\n" + "\n".join(pocas)


@necesita_sphinx
def test_ningun_enlace_interno_roto(sitio, paginas):
    """Cada href/src relativo apunta a un archivo del sitio, y cada #ancla a un id de la página de destino."""
    ids = {p.resolve(): etiquetas.ids for p, etiquetas in paginas.items()}
    rotos = []
    for pagina, etiquetas in paginas.items():
        for _, destino in etiquetas.enlaces:
            partes = urlsplit(destino)
            if partes.scheme or partes.netloc or destino.startswith(("mailto:", "data:", "javascript:")):
                continue  # externo: se queda como está
            archivo = (pagina.parent / unquote(partes.path)).resolve() if partes.path else pagina.resolve()
            if not archivo.exists():
                rotos.append(f"{pagina.relative_to(sitio)} -> {destino} (no existe)")
            elif partes.fragment and archivo in ids and unquote(partes.fragment) not in ids[archivo]:
                rotos.append(f"{pagina.relative_to(sitio)} -> {destino} (no hay ese #ancla)")
    assert not rotos, "Enlaces internos rotos:\n" + "\n".join(sorted(set(rotos)))
    # Los enlaces entre cuadernos y README llevan a sus páginas, y los externos siguen iguales.
    seccion05 = paginas[sitio / "seccion05" / "README.html"]
    assert ("a", "1_evaluando_modelos_texto.html") in seccion05.enlaces
    assert ("a", "https://github.com/computationalmodelling/nbval") in paginas[sitio / "README.html"].enlaces


@necesita_sphinx
def test_ningun_traceback_a_la_vista(paginas):
    malas = [str(p) for p in paginas
             if re.search(r"Traceback \(most recent call last\)|\x1b\[|\[0;3\dm|ansi-red-fg", p.read_text("utf-8"))]
    assert not malas, f"Páginas con un traceback o con códigos ANSI de error: {malas}"


@necesita_sphinx
def test_el_glosario_tiene_un_ancla_por_termino(sitio, paginas):
    filas = [linea for linea in (RAIZ / "GLOSARIO.md").read_text(encoding="utf-8").splitlines()
             if linea.startswith("| ") and not linea.startswith("| Término")]
    terminos = [linea.strip("| ").split(" | ")[0] for linea in filas]
    ids = paginas[sitio / "GLOSARIO.html"].ids
    sin_ancla = [t for t in terminos if anclas_termino(t)[0] not in ids]
    assert len(terminos) > 50 and not sin_ancla, f"Términos sin ancla: {sin_ancla}"
    assert {"entropia-cruzada", "perplejidad", "cache-kv", "atajo", "conexion-residual"} <= ids


# -- En un navegador de verdad ----------------------------------------------------------------------------------------

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
necesita_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="No está Chromium: para ver el sitio en un navegador, instala el paquete chromium"
)


@pytest.fixture(scope="module")
def navegador(tmp_path_factory):
    """Abre una página con Chromium sin interfaz y sin red, con un perfil temporal, y devuelve su DOM."""
    perfil = tmp_path_factory.mktemp("perfil-chromium")

    def dom(url: str) -> str:
        return _dom(url, perfil)

    return dom


def _dom(url: str, perfil: Path, presupuesto_ms: int = 10000) -> str:
    """El DOM de `url` después de ejecutar su JavaScript (`presupuesto_ms` de tiempo virtual para hacerlo)."""
    proceso = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={perfil}",
         "--host-resolver-rules=MAP * ~NOTFOUND",  # sin red: ningún nombre se resuelve (un CDN no llegaría)
         f"--virtual-time-budget={presupuesto_ms}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "XDG_CONFIG_HOME": str(perfil), "XDG_CACHE_HOME": str(perfil)},  # nada en tu carpeta
    )
    assert proceso.returncode == 0 and "<html" in proceso.stdout, f"Chromium no abre {url}:\n{proceso.stderr[-2000:]}"
    return proceso.stdout


@necesita_sphinx
@necesita_chromium
def test_en_el_navegador_portada_y_cuaderno(sitio, navegador):
    portada = navegador((sitio / "index.html").as_uri())  # la redirección a README.html
    assert "<h1>LLM desde cero" in portada and "Empezar" in portada
    cuaderno = navegador((sitio / f"{CUADERNO_EVALUACION}.html").as_uri())
    assert re.search(r"<h1>Evaluación de modelos de texto generativo", cuaderno)
    assert re.search(r'<img [^>]*src="\.\./_images/[^"]+\.png"', cuaderno), "El cuaderno no muestra su figura."
    botones = cuaderno.count('class="copybtn')
    codigo = cuaderno.count('<div class="highlight-')  # las salidas son <div class="output stream highlight-...
    assert botones == codigo > 10, f"{botones} botones de copiar para {codigo} bloques de código (sin las salidas)."
    assert not re.search(r'<script [^>]*src="https?://', cuaderno), "La página carga un script de internet."


@necesita_sphinx
@necesita_chromium
def test_en_el_navegador_mathjax_compone_las_formulas(sitio, navegador):
    dom = navegador((sitio / f"{CON_FORMULAS}.html").as_uri())
    compuestas = dom.count("<mjx-container")
    assert compuestas > 20, f"MathJax no ha compuesto las fórmulas ({compuestas} compuestas)."
    assert "<mjx-merror" not in dom, "MathJax no entiende alguna fórmula."
    assert re.search(r'<script [^>]*src="\.\./_static/mathjax/tex-mml-chtml\.js', dom)


@necesita_sphinx
@necesita_chromium
def test_en_el_navegador_el_buscador_encuentra_la_entropia_cruzada(sitio, navegador):
    dom = navegador((sitio / "search.html").as_uri() + "?q=entrop%C3%ADa+cruzada")
    resultados = dom[dom.index('class="search"'):]
    resultados = resultados[: resultados.index("</ul>")]
    assert f'href="{CUADERNO_EVALUACION}.html' in resultados, "La búsqueda de «entropía cruzada» no da el cuaderno."
