"""Comparación de salidas de cuadernos con tolerancia para los números decimales.

nbval compara el texto que imprime cada celda con el guardado en el cuaderno. Los decimales de
un cálculo en coma flotante pueden cambiar en la última cifra según la CPU (AVX2 o AVX-512) o el
número de hilos (diferencias relativas de ~2e-6). Aquí se reconcilian esas diferencias, y solo esas:

- el texto alrededor de los números debe ser idéntico;
- los enteros (sin punto decimal ni exponente) deben ser idénticos: 5145 no es 5146;
- dos decimales `a` (guardado) y `b` (nuevo) se aceptan si |a - b| <= rtol·max(|a|, |b|) + u,
  donde u es una unidad de la última cifra impresa (lo que puede mover el redondeo).

Si todo encaja, la salida nueva se sustituye por la guardada y nbval la da por buena; si algo no
encaja, nbval la compara tal cual y muestra la diferencia.

La tolerancia relativa por defecto es `RTOL_POR_DEFECTO`. Una celda puede pedir otra escribiendo en
cualquier línea de su código el comentario `# nbval-tolerancia: rtol=1e-3`.
"""

from __future__ import annotations

import copy
import math
import re

RTOL_POR_DEFECTO = 1e-5

NUMERO = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")
MARCA_TOLERANCIA = re.compile(r"#\s*nbval-tolerancia:\s*rtol\s*=\s*([0-9.eE+-]+)")


def _es_decimal(token: str) -> bool:
    return "." in token or "e" in token or "E" in token


def _unidad_ultima_cifra(token: str) -> float:
    """Valor de una unidad en la última cifra impresa: '10.7940' -> 1e-4, '9.4149e-06' -> 1e-10."""
    mantisa, _, exponente = token.lower().partition("e")
    decimales = len(mantisa.partition(".")[2])
    return 10.0 ** (-decimales + (int(exponente) if exponente else 0))


def numeros_compatibles(guardado: str, nuevo: str, rtol: float = RTOL_POR_DEFECTO) -> bool:
    """¿Pueden dos números impresos venir del mismo valor con un error relativo de como mucho `rtol`?"""
    if guardado == nuevo:
        return True
    if not (_es_decimal(guardado) and _es_decimal(nuevo)):
        return False  # los enteros se comparan exactamente
    a, b = float(guardado), float(nuevo)
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        return False
    margen = rtol * max(abs(a), abs(b)) + max(_unidad_ultima_cifra(guardado), _unidad_ultima_cifra(nuevo))
    return abs(a - b) <= margen


def textos_compatibles(guardado: str, nuevo: str, rtol: float = RTOL_POR_DEFECTO) -> bool:
    """¿Son iguales los dos textos salvo números decimales dentro de la tolerancia?"""
    if guardado == nuevo:
        return True
    if NUMERO.split(guardado) != NUMERO.split(nuevo):
        return False
    return all(numeros_compatibles(g, n, rtol) for g, n in zip(NUMERO.findall(guardado), NUMERO.findall(nuevo), strict=True))


def tolerancia_de_celda(codigo: str) -> float:
    """La rtol que pide una celda con `# nbval-tolerancia: rtol=...`, o la de por defecto."""
    marca = MARCA_TOLERANCIA.search(codigo or "")
    return float(marca.group(1)) if marca else RTOL_POR_DEFECTO


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
