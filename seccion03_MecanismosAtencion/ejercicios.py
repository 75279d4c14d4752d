"""Comprobaciones de los ejercicios de la sección 3 (los mecanismos de atención).

Cada función `comprobar_ejercicio_3_N` recibe tu respuesta, imprime «¡correcto!», «todavía sin resolver» (si la
respuesta sigue en None) o lo que falta, y devuelve True solo si la respuesta es correcta. Nunca lanza un error por
una respuesta equivocada: si tu código falla al usarlo, te dice con qué error.

Los enunciados están al final de seccion03_MecanismosAtencion/1_mecanismos_atencion.ipynb, y las soluciones en
seccion03_MecanismosAtencion/soluciones.ipynb.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from seccion02_TrabajarDatosTexto.comprobarEjercicio import (
    a_entero,
    describir,
    describir_error,
    informar,
    miles,
    valores,
)

# Los embeddings de «Your journey starts with one step» del cuaderno: una fila por token, 3 números cada una
ENTRADAS = torch.tensor(
    [
        [0.43, 0.15, 0.89],  # Your     (x^1)
        [0.55, 0.87, 0.66],  # journey  (x^2)
        [0.57, 0.85, 0.64],  # starts   (x^3)
        [0.22, 0.58, 0.33],  # with     (x^4)
        [0.77, 0.25, 0.10],  # one      (x^5)
        [0.05, 0.80, 0.55],  # step     (x^6)
    ]
)
PALABRAS = ["Your", "journey", "starts", "with", "one", "step"]

# Parámetros de la atención de GPT-2 pequeño con sesgo en consultas, claves y valores (ejercicio 3.3)
_PARAMETROS_GPT2 = 4 * 768 * 768 + 4 * 768  # W_query, W_key, W_value y out_proj, cada una con su sesgo
_PARAMETROS_GPT2_SIN_SESGO_QKV = 4 * 768 * 768 + 768  # solo out_proj lleva sesgo
_NUMEROS_MASCARA_GPT2 = 1024 * 1024


def comprobar_ejercicio_3_1(sa_v1, sa_v2) -> bool:
    """Ejercicio 3.1: `sa_v1` (un SelfAttention_v1) debe llevar los pesos de `sa_v2` (un SelfAttention_v2) y dar
    exactamente su misma salida."""
    nombre = "Ejercicio 3.1"
    if sa_v1 is None:
        return informar(nombre, None)
    if sa_v1 is sa_v2:
        return informar(nombre, [
            "sa_v1 es el mismo objeto que sa_v2. Crea un SelfAttention_v1 nuevo y copia en él los pesos de sa_v2."
        ])
    problemas = []
    for capa in ("W_query", "W_key", "W_value"):
        matriz = getattr(sa_v1, capa, None)
        lineal = getattr(sa_v2, capa, None)
        if not isinstance(lineal, nn.Linear):
            return informar(nombre, [
                f"sa_v2.{capa} debería ser una capa nn.Linear y es {describir(lineal)}: sa_v2 tiene que ser el "
                "SelfAttention_v2(3, 2) del enunciado."
            ])
        if isinstance(matriz, nn.Module):
            return informar(nombre, [
                f"sa_v1.{capa} es una capa {type(matriz).__name__}: sa_v1 debe ser un SelfAttention_v1, cuyas "
                "matrices son tensores nn.Parameter de forma (d_in, d_out)."
            ])
        if not isinstance(matriz, torch.Tensor):
            return informar(nombre, [
                f"sa_v1 no tiene una matriz {capa} (tiene {describir(matriz)}): sa_v1 debe ser un SelfAttention_v1."
            ])
        peso = lineal.weight.detach()  # (d_out, d_in)
        if tuple(matriz.shape) != tuple(peso.T.shape):
            if tuple(matriz.shape) == tuple(peso.shape) and peso.shape[0] != peso.shape[1]:
                problemas.append(
                    f"sa_v1.{capa} tiene forma {tuple(matriz.shape)}, la del peso de nn.Linear (d_out, d_in); "
                    f"SelfAttention_v1 espera (d_in, d_out) = {tuple(peso.T.shape)}. nn.Linear guarda su matriz "
                    "traspuesta: trasponla al copiarla."
                )
            else:
                problemas.append(
                    f"sa_v1.{capa} tiene forma {tuple(matriz.shape)}; se esperaba {tuple(peso.T.shape)}, la "
                    f"traspuesta de sa_v2.{capa}.weight."
                )
            continue
        matriz = matriz.detach()
        if torch.equal(matriz, peso.T):
            continue
        if torch.equal(matriz, peso.reshape(matriz.shape)):
            problemas.append(
                f"sa_v1.{capa} tiene la forma correcta, pero sus números están en otro orden: reshape (o view) "
                "reparte los números fila a fila sin trasponer. Usa .T."
            )
        else:
            otras = [
                otra for otra in ("W_query", "W_key", "W_value")
                if otra != capa and isinstance(getattr(sa_v2, otra, None), nn.Linear)
                and torch.equal(matriz, getattr(sa_v2, otra).weight.detach().T)
            ]
            if otras:
                problemas.append(f"sa_v1.{capa} lleva los pesos de sa_v2.{otras[0]}: copia cada matriz en la suya.")
            else:
                problemas.append(f"sa_v1.{capa} no es la traspuesta de sa_v2.{capa}.weight.")
    if problemas:
        return informar(nombre, problemas)

    if sa_v2.W_query.bias is not None:
        problemas.append(
            "sa_v2 tiene sesgos (qkv_bias=True): SelfAttention_v1 no tiene dónde guardarlos. Usa el "
            "SelfAttention_v2(3, 2) del enunciado, sin sesgos."
        )
        return informar(nombre, problemas)

    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):  # sin tocar el generador aleatorio del cuaderno
            salida_v1, salida_v2 = sa_v1(ENTRADAS), sa_v2(ENTRADAS)
    except Exception as error:  # la respuesta del alumno puede fallar de cualquier forma
        return informar(nombre, [describir_error("Llamar a sa_v1(inputs) o a sa_v2(inputs)", error)])
    if salida_v1.shape != salida_v2.shape or not torch.allclose(salida_v1, salida_v2, atol=1e-6):
        problemas.append(
            f"Las matrices son las de sa_v2, pero las salidas no coinciden: sa_v1(inputs) da {describir(salida_v1)} "
            f"con primera fila {valores(salida_v1[0])}, y sa_v2(inputs) da {describir(salida_v2)} con primera fila "
            f"{valores(salida_v2[0])}."
        )
    return informar(nombre, problemas)


def comprobar_ejercicio_3_2(mha) -> bool:
    """Ejercicio 3.2: `mha` debe ser un MultiHeadAttentionWrapper de 2 cabezas que, con el lote de dos copias de
    `inputs`, devuelva vectores de contexto de 2 dimensiones: salida (2, 6, 2)."""
    nombre = "Ejercicio 3.2"
    if mha is None:
        return informar(nombre, None)
    cabezas = getattr(mha, "heads", None)
    if not isinstance(cabezas, nn.ModuleList):
        return informar(nombre, [
            f"mha no tiene la lista de cabezas `heads` de MultiHeadAttentionWrapper (es {describir(mha)})."
        ])
    problemas = []
    if len(cabezas) != 2:
        problemas.append(f"mha tiene {len(cabezas)} cabezas; el ejercicio pide num_heads=2.")
    batch = torch.stack((ENTRADAS, ENTRADAS), dim=0)  # (2, 6, 3)
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):  # el dropout no gasta números del cuaderno
            salida = mha(batch)
    except Exception as error:  # la respuesta del alumno puede fallar de cualquier forma
        problemas.append(describir_error("Llamar a mha(batch), con batch de forma (2, 6, 3),", error))
        return informar(nombre, problemas)
    if not isinstance(salida, torch.Tensor):
        problemas.append(f"mha(batch) devuelve {describir(salida)}; se esperaba un tensor de forma (2, 6, 2).")
    elif tuple(salida.shape) != (2, 6, 2):
        por_cabeza = [str(getattr(getattr(c, "W_query", None), "out_features", "?")) for c in cabezas]
        problemas.append(
            f"mha(batch) tiene forma {tuple(salida.shape)}; se esperaba (2, 6, 2). La envoltura concatena las "
            f"salidas de sus cabezas, y ahora aportan {' + '.join(por_cabeza)} números por token."
        )
    return informar(nombre, problemas)


def comprobar_ejercicio_3_3(mha_gpt2_original, num_params) -> bool:
    """Ejercicio 3.3: `mha_gpt2_original` debe ser una MultiHeadAttention del tamaño de GPT-2 pequeño con sesgo en consultas,
    claves y valores, y `num_params` el número de sus parámetros entrenables."""
    nombre = "Ejercicio 3.3"
    if mha_gpt2_original is None and num_params is None:
        return informar(nombre, None)
    problemas = []
    if mha_gpt2_original is None:
        problemas.append("mha_gpt2_original sigue valiendo None: crea la MultiHeadAttention.")
    else:
        w_query = getattr(mha_gpt2_original, "W_query", None)
        mascara = getattr(mha_gpt2_original, "mask", None)
        if not isinstance(w_query, nn.Linear) or not hasattr(mha_gpt2_original, "num_heads"):
            problemas.append(f"mha_gpt2_original debería ser una MultiHeadAttention y es {describir(mha_gpt2_original)}.")
        else:
            if w_query.in_features != 768:
                problemas.append(f"mha_gpt2_original tiene d_in={w_query.in_features}; GPT-2 pequeño usa d_in=768.")
            if w_query.out_features != 768:
                problemas.append(f"mha_gpt2_original tiene d_out={w_query.out_features}; GPT-2 pequeño usa d_out=768.")
            if mha_gpt2_original.num_heads != 12:
                problemas.append(f"mha_gpt2_original tiene {mha_gpt2_original.num_heads} cabezas; GPT-2 pequeño usa 12.")
            if isinstance(mascara, torch.Tensor) and tuple(mascara.shape) != (1024, 1024):
                problemas.append(
                    f"La máscara de mha_gpt2_original es de {tuple(mascara.shape)}: context_length={mascara.shape[0]}; "
                    "GPT-2 admite 1024 tokens."
                )
            if any(getattr(mha_gpt2_original, capa).bias is None for capa in ("W_query", "W_key", "W_value")):
                problemas.append(
                    "mha_gpt2_original no tiene sesgo en consultas, claves y valores: el GPT-2 original sí lo tiene "
                    "(qkv_bias=True)."
                )
    if num_params is None:
        problemas.append("num_params sigue valiendo None: cuenta los parámetros de mha_gpt2_original.")
    else:
        cuenta = a_entero(num_params)
        if cuenta is None:
            problemas.append(f"num_params debe ser un número entero; es {describir(num_params)} ({num_params!r}).")
        elif cuenta == _PARAMETROS_GPT2 + _NUMEROS_MASCARA_GPT2:
            problemas.append(
                f"num_params = {miles(cuenta)} incluye los {miles(_NUMEROS_MASCARA_GPT2)} números de la máscara "
                "causal (1024 × 1024). La máscara es un búfer, no un parámetro entrenable: cuenta solo los de "
                "mha_gpt2_original.parameters(), no los de state_dict()."
            )
        elif cuenta == _PARAMETROS_GPT2_SIN_SESGO_QKV:
            problemas.append(
                f"num_params = {miles(cuenta)} es la cuenta sin sesgos en consultas, claves y valores "
                "(qkv_bias=False); con qkv_bias=True, W_query, W_key y W_value tienen además un sesgo de 768 "
                "números cada una."
            )
        elif cuenta != _PARAMETROS_GPT2:
            problemas.append(
                f"num_params = {miles(cuenta)} no es el número de parámetros entrenables de una "
                "MultiHeadAttention de GPT-2 pequeño con qkv_bias=True. Suma los pesos y sesgos de W_query, W_key, "
                "W_value y out_proj."
            )
    return informar(nombre, problemas)


def _pesos_causales(puntuaciones: torch.Tensor) -> torch.Tensor:
    """La solución del ejercicio 3.4: -inf por encima de la diagonal y softmax por filas, sin escalar."""
    n = puntuaciones.shape[0]
    mascara = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
    return torch.softmax(puntuaciones.masked_fill(mascara, -torch.inf), dim=-1)


def comprobar_ejercicio_3_4(puntuaciones, pesos) -> bool:
    """Ejercicio 3.4: `pesos` deben ser los pesos de atención causales de la matriz cuadrada `puntuaciones`
    (softmax por filas, sin escalar, con ceros por encima de la diagonal)."""
    nombre = "Ejercicio 3.4"
    if pesos is None:
        return informar(nombre, None)
    if not isinstance(puntuaciones, torch.Tensor) or puntuaciones.dim() != 2 or (
        puntuaciones.shape[0] != puntuaciones.shape[1]
    ):
        return informar(nombre, [
            f"puntuaciones debería ser la matriz cuadrada del enunciado y es {describir(puntuaciones)}."
        ])
    if not isinstance(pesos, torch.Tensor):
        return informar(nombre, [f"pesos debe ser un tensor de forma {tuple(puntuaciones.shape)}; es {describir(pesos)}."])
    if pesos.shape != puntuaciones.shape:
        return informar(nombre, [
            f"pesos tiene forma {tuple(pesos.shape)}; se esperaba {tuple(puntuaciones.shape)}, la de las puntuaciones."
        ])
    pesos = pesos.detach().float()
    esperados = _pesos_causales(puntuaciones.detach().float())
    problemas = []
    if torch.isnan(pesos).any():
        filas = [i for i in range(pesos.shape[0]) if torch.isnan(pesos[i]).any()]
        problemas.append(
            f"Hay valores nan en las filas {filas}: una fila entera quedó en -inf y la softmax no sabe repartir "
            "nada. La máscara debe tapar solo lo que está estrictamente por encima de la diagonal (diagonal=1): "
            "cada token se ve a sí mismo."
        )
        return informar(nombre, problemas)
    futuro = torch.triu(torch.ones_like(pesos, dtype=torch.bool), diagonal=1)
    if (pesos[futuro].abs() > 1e-6).any():
        problemas.append(
            "Hay pesos distintos de 0 por encima de la diagonal: el token de la fila i está viendo tokens j > i, "
            "que son futuros. Tapa con -inf las posiciones de torch.triu(..., diagonal=1)."
        )
    sumas = pesos.sum(dim=-1)
    if not torch.allclose(sumas, torch.ones_like(sumas), atol=1e-5):
        problemas.append(
            f"Las filas suman {valores(sumas)}; cada una debe sumar 1. Si pones los ceros después de la softmax, "
            "divide cada fila por su suma (o tapa con -inf antes de la softmax)."
        )
    if not problemas and not torch.allclose(pesos, esperados, atol=1e-5):
        problemas.append(
            f"Los ceros están en su sitio y las filas suman 1, pero los valores no son la softmax de las "
            f"puntuaciones enmascaradas: la última fila es {valores(pesos[-1])} y debería ser "
            f"{valores(esperados[-1])}. Las puntuaciones ya vienen escaladas: no las dividas por nada."
        )
    return informar(nombre, problemas)


def comprobar_ejercicio_3_5(attn_weights_3, context_vec_3) -> bool:
    """Ejercicio 3.5: pesos de atención (6,) y vector de contexto (3,) de «starts», el tercer token de `ENTRADAS`,
    con la autoatención simple (productos escalares, softmax y media ponderada de las entradas)."""
    nombre = "Ejercicio 3.5"
    if attn_weights_3 is None and context_vec_3 is None:
        return informar(nombre, None)
    esperados = torch.softmax(ENTRADAS @ ENTRADAS[2], dim=0)
    problemas = []
    if attn_weights_3 is None:
        problemas.append("attn_weights_3 sigue valiendo None: calcula los pesos de atención de «starts».")
    elif not isinstance(attn_weights_3, torch.Tensor):
        problemas.append(f"attn_weights_3 debe ser un tensor (torch.softmax ya devuelve uno); es {describir(attn_weights_3)}.")
    elif attn_weights_3.numel() != 6:
        problemas.append(f"attn_weights_3 debe tener 6 pesos, uno por token; es {describir(attn_weights_3)}.")
    else:
        pesos = attn_weights_3.detach().float().flatten()
        if not torch.allclose(pesos, esperados, atol=1e-4):
            otro = next(
                (i for i in range(6) if torch.allclose(pesos, torch.softmax(ENTRADAS @ ENTRADAS[i], dim=0), atol=1e-4)),
                None,
            )
            puntuaciones = ENTRADAS @ ENTRADAS[2]
            if otro is not None:
                problemas.append(
                    f"attn_weights_3 son los pesos de «{PALABRAS[otro]}» (fila {otro}), no los de «starts»: Python "
                    "cuenta desde 0, así que el tercer token es inputs[2]."
                )
            elif torch.allclose(pesos, puntuaciones / puntuaciones.sum(), atol=1e-4):
                problemas.append(
                    "attn_weights_3 están normalizados dividiendo por la suma; el ejercicio pide la softmax "
                    "(torch.softmax(..., dim=0))."
                )
            else:
                problemas.append(
                    f"attn_weights_3 vale {valores(pesos)}; no son la softmax de los productos escalares de "
                    "inputs[2] con cada fila de inputs."
                )
    if context_vec_3 is None:
        problemas.append("context_vec_3 sigue valiendo None: calcula el vector de contexto de «starts».")
    elif not isinstance(context_vec_3, torch.Tensor) or context_vec_3.numel() != 3:
        problemas.append(f"context_vec_3 debe tener 3 números, como cada embedding; es {describir(context_vec_3)}.")
    else:
        contexto = context_vec_3.detach().float().flatten()
        if not torch.allclose(contexto, esperados @ ENTRADAS, atol=1e-4):
            problemas.append(
                f"context_vec_3 vale {valores(contexto)}; debe ser la suma de las filas de inputs ponderada por "
                "los pesos de «starts»."
            )
    return informar(nombre, problemas)
