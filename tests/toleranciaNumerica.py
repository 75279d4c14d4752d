"""Comparación de las salidas de texto de los cuadernos con tolerancia para el ruido de coma flotante.

nbval compara el texto que imprime cada celda con el guardado en el cuaderno. Los decimales de un cálculo en
coma flotante pueden cambiar en las últimas cifras según la CPU (AVX2 o AVX-512) o el número de hilos
(diferencias relativas de hasta ~2e-6; una cuarta cifra significativa que pasa de 9.4149e-06 a 9.4148e-06).
Aquí se reconcilian esas diferencias, y solo esas. La regla, número a número (`numeros_compatibles`):

- el texto alrededor de los números debe ser idéntico;
- un número sin cifras después del punto y sin exponente (`50257`, `50257.`, `1.`) es exacto: enteros,
  recuentos, valores de configuración y los decimales enteros que imprime torch (`tensor([1., 0.])`) deben
  coincidir carácter a carácter; el punto final de una frase («has pasado 0.») no lo convierte en decimal;
- dos decimales deben tener la misma forma: el mismo número de cifras después del punto y los dos con
  exponente o los dos sin él (`1.0` no es `1.00`, `1e-05` no es `1.0e-05`);
- dos decimales `a` (guardado) y `b` (nuevo) se aceptan si |a - b| <= rtol·max(|a|, |b|), más una unidad u de la
  última cifra impresa solo si esa unidad es pequeña frente al valor, u <= 1e-3·max(|a|, |b|), es decir, si el
  número tiene unas cuatro cifras significativas o más: entonces que el redondeo cambie la última cifra es ruido.
  Con menos cifras la última cifra es el valor (`0.1` frente a `0.2`, `1e-05` frente a `2e-05`, `0.0123` frente
  a `0.0124`) y solo se acepta la diferencia que cubra rtol.

La tolerancia relativa por defecto es `RTOL_POR_DEFECTO` (1e-5, cinco veces el ruido medido). Una celda puede
pedir otra, de dos formas:

1. con una etiqueta en los metadatos de la celda, invisible para quien lee el cuaderno (la forma preferida):
   `nbval-tolerancia=1e-3`;
2. con un comentario `# nbval-tolerancia: rtol=1e-3` en las líneas de comentario con que empieza la celda,
   antes de la primera línea de código. Un comentario más abajo o el mismo texto dentro de una cadena no cuentan.

Si hay etiqueta, manda la etiqueta. Una marca mal escrita es un error (no se ignora en silencio).

Si todo encaja, la salida nueva se sustituye por la guardada y nbval la da por buena; si algo no encaja, nbval
la compara tal cual y muestra la diferencia. Este módulo no compara imágenes (eso es tests/comparacionImagenes.py)
ni ejecuta cuadernos (eso es nbval, con tests/pluginNbval.py).
"""

from __future__ import annotations

import copy
import io
import math
import re
import tokenize
from decimal import Decimal

RTOL_POR_DEFECTO = 1e-5

# Por encima de esta fracción del valor, una unidad de la última cifra impresa tiene significado y no se perdona.
UNIDAD_RELATIVA_MAXIMA = Decimal("1e-3")

ETIQUETA_TOLERANCIA = "nbval-tolerancia"  # la etiqueta se escribe `nbval-tolerancia=1e-3`

# Un número impreso: no puede ir pegado a letras, cifras o puntos (`98.36it/s`, `1.2.3` y `0x1f` son texto); un
# punto final seguido de algo que no es una cifra es el de la frase y no impide reconocer el número.
NUMERO = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?!\w|\.\d)")
COMENTARIO_TOLERANCIA = re.compile(r"#\s*nbval-tolerancia\b")
VALOR_COMENTARIO = re.compile(r"#\s*nbval-tolerancia:\s*rtol\s*=\s*(\S+)")


def _forma(token: str) -> tuple[int, bool]:
    """(cifras después del punto, ¿tiene exponente?) de un número impreso: '9.4149e-06' -> (4, True)."""
    mantisa, separador, _ = token.lower().partition("e")
    return len(mantisa.partition(".")[2]), bool(separador)


def _es_exacto(token: str) -> bool:
    """Sin cifras después del punto y sin exponente: `50257`, `50257.`, `1.`."""
    return _forma(token) == (0, False)


def _unidad_ultima_cifra(token: str) -> Decimal:
    """Valor de una unidad en la última cifra impresa: '10.7940' -> 1e-4, '9.4149e-06' -> 1e-10."""
    return Decimal(1).scaleb(Decimal(token).as_tuple().exponent)


def numeros_compatibles(guardado: str, nuevo: str, rtol: float = RTOL_POR_DEFECTO) -> bool:
    """¿Pueden dos números impresos venir del mismo valor con ruido de coma flotante? (regla del módulo)."""
    if guardado == nuevo:
        return True
    if _es_exacto(guardado) or _es_exacto(nuevo) or _forma(guardado) != _forma(nuevo):
        return False
    a, b = Decimal(guardado), Decimal(nuevo)
    if not (a.is_finite() and b.is_finite()):
        return False
    escala = max(abs(a), abs(b))
    margen = Decimal(rtol) * escala
    unidad = max(_unidad_ultima_cifra(guardado), _unidad_ultima_cifra(nuevo))
    if unidad <= UNIDAD_RELATIVA_MAXIMA * escala:
        margen += unidad
    return abs(a - b) <= margen


def textos_compatibles(guardado: str, nuevo: str, rtol: float = RTOL_POR_DEFECTO) -> bool:
    """¿Son iguales los dos textos salvo números decimales dentro de la tolerancia?"""
    if guardado == nuevo:
        return True
    if NUMERO.split(guardado) != NUMERO.split(nuevo):
        return False
    numeros = zip(NUMERO.findall(guardado), NUMERO.findall(nuevo), strict=True)
    return all(numeros_compatibles(g, n, rtol) for g, n in numeros)


def _leer_rtol(texto: str, marca: str) -> float:
    """El número de una marca de tolerancia, o un ValueError que dice qué se recibió y qué vale."""
    try:
        rtol = float(texto)
    except ValueError:
        rtol = math.nan
    if not (math.isfinite(rtol) and 0 <= rtol < 1):
        raise ValueError(
            f"La marca de tolerancia {marca!r} pide rtol={texto!r}; rtol debe ser un número entre 0 y 1 "
            "(0 incluido, 1 no), por ejemplo 1e-3."
        )
    return rtol


def _comentarios_iniciales(codigo: str) -> list[str]:
    """Los comentarios de las líneas con que empieza la celda, antes de la primera línea de código."""
    comentarios = []
    ignorables = (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING)
    try:
        for token in tokenize.generate_tokens(io.StringIO(codigo).readline):
            if token.type == tokenize.COMMENT:
                comentarios.append(token.string)
            elif token.type not in ignorables:
                break
    except (tokenize.TokenError, SyntaxError):  # código incompleto más abajo: lo leído hasta ahí vale
        pass
    return comentarios


def tolerancia_de_celda(codigo: str, etiquetas: list[str] | None = None) -> float:
    """La rtol que pide una celda (etiqueta `nbval-tolerancia=1e-3` o comentario inicial), o la de por defecto.

    `codigo` es el código de la celda y `etiquetas` las de sus metadatos (`cell.metadata["tags"]`).
    """
    de_etiquetas = [e for e in (etiquetas or []) if isinstance(e, str) and e.startswith(ETIQUETA_TOLERANCIA)]
    if len(de_etiquetas) > 1:
        raise ValueError(f"La celda tiene dos etiquetas de tolerancia ({de_etiquetas}); deja solo una.")
    if de_etiquetas:
        nombre, igual, valor = de_etiquetas[0].partition("=")
        if nombre != ETIQUETA_TOLERANCIA or not igual:
            raise ValueError(
                f"La etiqueta {de_etiquetas[0]!r} no se entiende; escríbela así: {ETIQUETA_TOLERANCIA}=1e-3."
            )
        return _leer_rtol(valor, de_etiquetas[0])
    for comentario in _comentarios_iniciales(codigo or ""):
        if not COMENTARIO_TOLERANCIA.match(comentario):
            continue
        valor = VALOR_COMENTARIO.match(comentario)
        if valor is None:
            raise ValueError(
                f"El comentario {comentario!r} no se entiende; escríbelo así: # nbval-tolerancia: rtol=1e-3 "
                f"(o, mejor, pon a la celda la etiqueta {ETIQUETA_TOLERANCIA}=1e-3)."
            )
        return _leer_rtol(valor.group(1), comentario)
    return RTOL_POR_DEFECTO


def _texto(valor):
    return "".join(valor) if isinstance(valor, list) else valor


def reconciliar_salidas(nuevas: list, guardadas: list, rtol: float = RTOL_POR_DEFECTO) -> list:
    """Copia de `nuevas` en la que cada texto compatible con el guardado se sustituye por este."""
    if len(nuevas) != len(guardadas):
        return nuevas
    resultado = []
    for nueva, guardada in zip(nuevas, guardadas, strict=True):
        nueva = copy.deepcopy(nueva)
        if nueva.get("output_type") != guardada.get("output_type"):
            resultado.append(nueva)
            continue
        if nueva.get("output_type") == "stream" and nueva.get("name") == guardada.get("name"):
            g, n = _texto(guardada.get("text", "")), _texto(nueva.get("text", ""))
            if isinstance(g, str) and isinstance(n, str) and textos_compatibles(g, n, rtol):
                nueva["text"] = g
        datos_nuevos, datos_guardados = nueva.get("data"), guardada.get("data")
        if datos_nuevos is not None and datos_guardados is not None:
            g, n = _texto(datos_guardados.get("text/plain")), _texto(datos_nuevos.get("text/plain"))
            if isinstance(g, str) and isinstance(n, str) and textos_compatibles(g, n, rtol):
                datos_nuevos["text/plain"] = g
        resultado.append(nueva)
    return resultado
