"""Ayudas para comprobar que el código que enseña un cuaderno y el de su módulo no se separan.

La regla del curso: una celda de código que define lo mismo que un módulo empieza con la marca

    # Igual que en seccion05/calcLoss.py

(la ruta del módulo desde la raíz del repositorio; si la celda de verdad copia dos módulos,
`# Igual que en a.py y b.py`). Para el alumno quiere decir «este código está guardado en ese módulo». Las pruebas
(tests/test_cuadernos_y_modulos.py) comprueban que cada `def`, `class` y constante en MAYÚSCULAS de alto nivel de una
celda marcada está en su módulo y coincide con él (el árbol sintáctico, sin docstrings ni comentarios), y que ningún
cuaderno define sin la marca un nombre que ya exporta un módulo del curso.

Las celdas se numeran como en el JSON del cuaderno: su índice en `cells`, desde 0, contando también las de markdown.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent

# Las carpetas cuyos módulos exportan lo que los cuadernos no deben volver a definir sin la marca
CARPETAS_DE_MODULOS = (
    "seccion02_TrabajarDatosTexto",
    "seccion03_MecanismosAtencion",
    "seccion04_ImplementacionGPTGeneracionTexto",
    "seccion05",
)
MARCA = "# Igual que en "
_MARCA = re.compile(r"# Igual que en (?P<primero>[\w./-]+\.py)(?: y (?P<segundo>[\w./-]+\.py))?")
# Lo que parece una marca mal escrita: «# igual que en seccion05/calcLoss», «#Igual que en calcLoss.py»...
_PARECE_MARCA = re.compile(r"\s*#\s*igual\s+que\s+en\b.*(\.py|seccion)", re.IGNORECASE)
_CONSTANTE = re.compile(r"_?[A-Z][A-Z0-9_]*")


# --- Leer cuadernos y módulos ------------------------------------------------------------------------------------

def sin_magias(fuente: str) -> str:
    """El código de una celda sin las líneas mágicas de IPython (`%`, `!`), que no son Python."""
    return "\n".join(linea for linea in fuente.splitlines() if not linea.lstrip().startswith(("%", "!")))


def cuadernos_del_repositorio(raiz: Path = RAIZ) -> list[str]:
    """Las rutas (relativas a `raiz`) de todos los `.ipynb`, sin `.ipynb_checkpoints` ni lo que git ignora.

    Fuera de un repositorio git (una copia sin `.git`), todos los que hay, salvo los de carpetas ocultas.
    """
    try:
        salida = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "*.ipynb"],
            cwd=raiz, capture_output=True, check=True, text=True,
        ).stdout
        rutas = [Path(r) for r in salida.split("\0") if r]
    except (OSError, subprocess.CalledProcessError):
        rutas = [p.relative_to(raiz) for p in raiz.rglob("*.ipynb")]
        rutas = [r for r in rutas if not any(parte.startswith(".") for parte in r.parts[:-1])]
    rutas = [r for r in rutas if ".ipynb_checkpoints" not in r.parts and (raiz / r).is_file()]
    return sorted(r.as_posix() for r in rutas)


def modulos_del_curso(raiz: Path = RAIZ) -> list[str]:
    """Las rutas (relativas a `raiz`) de los `.py` de las carpetas de las secciones."""
    return sorted(p.relative_to(raiz).as_posix() for carpeta in CARPETAS_DE_MODULOS for p in (raiz / carpeta).glob("*.py"))


def es_constante(nombre: str) -> bool:
    """`GPT_CONFIG_124M`, `TOKEN_PATTERN`: un nombre en MAYÚSCULAS (puede llevar cifras y guiones bajos)."""
    return _CONSTANTE.fullmatch(nombre) is not None


def definiciones(arbol: ast.Module, todas: bool = False) -> dict[str, ast.AST]:
    """Lo que define el código a alto nivel: nombre -> nodo (el `def`/`class`, o el valor de la asignación).

    Con `todas=False` (lo que se busca en un cuaderno), de las asignaciones solo las constantes en MAYÚSCULAS; con
    `todas=True` (lo que exporta un módulo), cualquier nombre asignado. Si un nombre se define dos veces, cuenta la
    última, como en Python.
    """
    encontradas: dict[str, ast.AST] = {}
    for nodo in arbol.body:
        if isinstance(nodo, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            encontradas[nodo.name] = nodo
            continue
        if isinstance(nodo, ast.Assign):
            objetivos, valor = nodo.targets, nodo.value
        elif isinstance(nodo, ast.AnnAssign) and nodo.value is not None:
            objetivos, valor = [nodo.target], nodo.value
        else:
            continue
        for objetivo in objetivos:
            if isinstance(objetivo, ast.Name) and (todas or es_constante(objetivo.id)):
                encontradas[objetivo.id] = valor
    return encontradas


def _sin_docstrings(nodo: ast.AST) -> ast.AST:
    for n in ast.walk(nodo):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            cuerpo = n.body
            if cuerpo and isinstance(cuerpo[0], ast.Expr) and isinstance(getattr(cuerpo[0], "value", None), ast.Constant):
                if isinstance(cuerpo[0].value.value, str):
                    n.body = cuerpo[1:] or [ast.Pass()]
    return nodo


def normalizada(nodo: ast.AST) -> str:
    """`ast.dump` de una definición (o del valor de una constante), sin docstrings; los comentarios no llegan al árbol."""
    return ast.dump(_sin_docstrings(copy.deepcopy(nodo)), include_attributes=False)


def _clave(ruta: Path) -> tuple[Path, str]:
    """Un archivo y su contenido: la clave de las cachés, para analizar cada versión una sola vez."""
    return ruta.resolve(), ruta.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=256)
def _definiciones_del_archivo(clave: tuple[Path, str]) -> dict[str, ast.AST]:
    return definiciones(ast.parse(clave[1]), todas=True)


def definiciones_del_modulo(modulo: str, raiz: Path = RAIZ) -> dict[str, ast.AST]:
    """Todo lo que define a alto nivel el módulo `modulo` (ruta relativa a `raiz`)."""
    return _definiciones_del_archivo(_clave(raiz / modulo))


def nombres_exportados(raiz: Path = RAIZ) -> dict[str, list[str]]:
    """Los nombres públicos (sin `_` delante) que definen los módulos del curso -> los módulos que los definen.

    Cuentan también `ejercicios.py` y `comprobarEjercicio.py`: `miles` es de comprobarEjercicio.py. Lo que un módulo
    solo importa (y reexporta) no cuenta: se define en otro módulo.
    """
    exportados: dict[str, list[str]] = {}
    for modulo in modulos_del_curso(raiz):
        for nombre in definiciones_del_modulo(modulo, raiz):
            if not nombre.startswith("_"):
                exportados.setdefault(nombre, []).append(modulo)
    return exportados


# --- Las celdas marcadas -------------------------------------------------------------------------------------------

@dataclass
class Celda:
    """Una celda de código: su índice en el cuaderno, su código y los módulos que nombra su marca (si la lleva)."""

    indice: int
    fuente: str
    marca: tuple[str, ...] = ()
    problemas: list[str] = field(default_factory=list)  # los de la propia marca (mal escrita, fuera de sitio...)
    definidas: dict[str, ast.AST] = field(default_factory=dict)


def leer_marca(linea: str) -> tuple[str, ...] | None:
    """Los módulos que nombra la marca `# Igual que en a.py` (o `... a.py y b.py`); None si la línea no lo es."""
    encontrada = _MARCA.fullmatch(linea.rstrip())
    if encontrada is None:
        return None
    return tuple(m for m in encontrada.group("primero", "segundo") if m)


def celdas_de_codigo(cuaderno: str, raiz: Path = RAIZ) -> list[Celda]:
    """Las celdas de código del cuaderno (ruta relativa a `raiz`), con su marca leída y lo que definen.

    En `Celda.problemas` quedan las marcas mal escritas o fuera de la primera línea, y el código que no se entiende.
    """
    return _celdas_del_archivo(cuaderno, _clave(raiz / cuaderno))


@functools.lru_cache(maxsize=64)
def _celdas_del_archivo(cuaderno: str, clave: tuple[Path, str]) -> list[Celda]:
    datos = json.loads(clave[1])
    celdas = []
    for indice, celda in enumerate(datos["cells"]):
        if celda["cell_type"] != "code":
            continue
        fuente = "".join(celda["source"])
        actual = Celda(indice, fuente)
        lineas = fuente.splitlines()
        donde = f"{cuaderno}, celda {indice}"
        for numero, linea in enumerate(lineas):
            if not _PARECE_MARCA.match(linea):
                continue
            modulos = leer_marca(linea)
            if numero == 0 and modulos is not None:
                actual.marca = modulos
            elif modulos is None:
                actual.problemas.append(
                    f"{donde}: la línea {numero + 1} «{linea.strip()}» parece una marca, pero no se entiende. "
                    f"Escríbela así, como primera línea de la celda: «{MARCA}seccion05/calcLoss.py» "
                    "(o «... a.py y b.py» si la celda copia dos módulos)."
                )
            else:
                actual.problemas.append(
                    f"{donde}: la marca «{linea.strip()}» está en la línea {numero + 1}; "
                    "debe ser la primera línea de la celda, y solo una."
                )
        try:
            actual.definidas = definiciones(ast.parse(sin_magias(fuente)))
        except SyntaxError as error:
            actual.problemas.append(f"{donde}: no es Python válido ({error.msg}, línea {error.lineno}); "
                                    "no se puede saber qué define.")
        celdas.append(actual)
    return celdas


def problemas_de_marca(cuaderno: str, celda: Celda, raiz: Path = RAIZ) -> list[str]:
    """Lo que está mal en la marca de una celda: mal escrita o fuera de sitio, un módulo que no existe, un módulo que no
    aporta ninguna de las definiciones de la celda, o una celda marcada que no define nada."""
    problemas = list(celda.problemas)
    donde = f"{cuaderno}, celda {celda.indice}"
    if not celda.marca:
        return problemas
    if len(set(celda.marca)) != len(celda.marca):
        problemas.append(f"{donde}: la marca nombra dos veces el mismo módulo.")
    if not celda.definidas:
        problemas.append(f"{donde}: lleva la marca «{MARCA}{' y '.join(celda.marca)}», pero no define ninguna función, "
                         "clase ni constante en MAYÚSCULAS; quita la marca.")
    for modulo in celda.marca:
        if not (raiz / modulo).is_file():
            problemas.append(f"{donde}: la marca nombra {modulo}, que no existe. Escribe la ruta del módulo desde la "
                             f"raíz del repositorio, por ejemplo «{MARCA}seccion05/calcLoss.py».")
        elif len(celda.marca) > 1 and not set(celda.definidas) & set(definiciones_del_modulo(modulo, raiz)):
            problemas.append(f"{donde}: la marca nombra {modulo}, pero la celda no define nada de ese módulo; "
                             "quítalo de la marca.")
    return problemas


def _modulo_python(modulo: str) -> str:
    return modulo.removesuffix(".py").replace("/", ".")


def problemas_de_nombre(cuaderno: str, nombre: str, raiz: Path = RAIZ,
                        exportados: dict[str, list[str]] | None = None) -> list[str]:
    """Lo que está mal en las definiciones de `nombre` en el cuaderno.

    En una celda marcada, el módulo de la marca debe definir `nombre` y su definición debe coincidir (sin docstrings ni
    comentarios). En una celda sin marca, `nombre` no puede ser algo que ya exporta un módulo del curso.
    """
    if exportados is None:
        exportados = nombres_exportados(raiz)
    problemas = []
    for celda in celdas_de_codigo(cuaderno, raiz):
        if nombre not in celda.definidas:
            continue
        donde = f"{cuaderno}, celda {celda.indice}"
        if not celda.marca:
            if nombre in exportados:
                modulo = exportados[nombre][0]
                problemas.append(
                    f"{donde}: define {nombre!r}, que ya exporta {' y '.join(exportados[nombre])}, y la celda no "
                    f"lleva la marca. Impórtalo (from {_modulo_python(modulo)} import {nombre}); si es el mismo "
                    f"código y el cuaderno lo enseña, empieza la celda con «{MARCA}{modulo}»; si es otra cosa, "
                    "cámbiale el nombre."
                )
            continue
        existentes = [m for m in celda.marca if (raiz / m).is_file()]
        if len(existentes) < len(celda.marca):
            faltan = ", ".join(m for m in celda.marca if m not in existentes)
            problemas.append(f"{donde}: define {nombre!r} y su marca nombra {faltan}, que no existe.")
        del_modulo = {m: definiciones_del_modulo(m, raiz) for m in existentes}
        con_nombre = [m for m in existentes if nombre in del_modulo[m]]
        if not con_nombre:
            if existentes:
                problemas.append(
                    f"{donde}: define {nombre!r}, pero {' ni '.join(existentes)} no lo define. Corrige la marca, "
                    "añade la definición al módulo o sácala de esta celda."
                )
            continue
        modulo = con_nombre[0]
        if normalizada(celda.definidas[nombre]) != normalizada(del_modulo[modulo][nombre]):
            problemas.append(f"{donde}: {nombre} ya no coincide con el de {modulo} (salvo docstrings y comentarios): "
                             "cambia los dos a la vez.")
    return problemas


def casos_de_nombres(raiz: Path = RAIZ) -> list[tuple[str, str]]:
    """Los pares (cuaderno, nombre) que comprobar: cada nombre definido en una celda marcada y cada nombre que un
    cuaderno define y un módulo del curso exporta."""
    exportados = nombres_exportados(raiz)
    casos = set()
    for cuaderno in cuadernos_del_repositorio(raiz):
        for celda in celdas_de_codigo(cuaderno, raiz):
            casos |= {(cuaderno, n) for n in celda.definidas if celda.marca or n in exportados}
    return sorted(casos)


def casos_de_marcas(raiz: Path = RAIZ) -> list[tuple[str, int]]:
    """Los pares (cuaderno, índice de celda) de las celdas con marca, o con algo que lo parece."""
    return [
        (cuaderno, celda.indice)
        for cuaderno in cuadernos_del_repositorio(raiz)
        for celda in celdas_de_codigo(cuaderno, raiz)
        if celda.marca or celda.problemas
    ]
