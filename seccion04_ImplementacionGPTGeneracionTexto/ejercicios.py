"""Comprobaciones de los ejercicios de la sección 4 (implementar un modelo GPT y generar texto).

Cada función `comprobar_ejercicio_4_N` recibe tu respuesta, imprime «¡correcto!», «todavía sin resolver» (si la
respuesta sigue en None) o lo que falta, y devuelve True solo si la respuesta es correcta. Nunca lanza un error por
una respuesta equivocada: si tu código falla al usarlo, te dice con qué error. Tampoco cambia los números aleatorios
que sortean las celdas siguientes del cuaderno.

Los enunciados están al final de seccion04_ImplementacionGPTGeneracionTexto/1_implementacion_gpt.ipynb, y las
soluciones en seccion04_ImplementacionGPTGeneracionTexto/soluciones.ipynb.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn as nn

from seccion02_TrabajarDatosTexto.comprobarEjercicio import (
    a_entero,
    a_numero,
    describir,
    describir_error,
    informar,
    miles,
    valores,
)
from seccion04_ImplementacionGPTGeneracionTexto.gptConfig124M import GPT_CONFIG_124M

# Los tres tamaños mayores de GPT-2 (ejercicio 4.2): solo cambian estas tres claves de GPT_CONFIG_124M
TAMANOS_GPT2 = {
    "medium": {"emb_dim": 1024, "n_layers": 24, "n_heads": 16},
    "large": {"emb_dim": 1280, "n_layers": 36, "n_heads": 20},
    "xl": {"emb_dim": 1600, "n_layers": 48, "n_heads": 25},
}

# Las claves de la configuración con tres tasas de dropout (ejercicio 4.3), en lugar de drop_rate
CLAVES_DROPOUT = ("drop_rate_emb", "drop_rate_shortcut", "drop_rate_attn")

# El texto de partida del ejercicio 4.4 y sus ids con el tokenizador de GPT-2
TEXTO_INICIO = "I really like"
IDS_INICIO = [40, 1107, 588]
NUEVOS_TOKENS = 8

MB = 1e6  # el curso usa MB decimales: 1 MB = 10⁶ bytes
MIB = 1024 * 1024


# --- Cuentas de parámetros sin construir nada -------------------------------------------------------------------------

def parametros_feed_forward(emb_dim: int) -> int:
    """Parámetros de FeedForward: lineal emb_dim → 4·emb_dim y lineal 4·emb_dim → emb_dim, las dos con sesgo."""
    oculta = 4 * emb_dim
    return (emb_dim * oculta + oculta) + (oculta * emb_dim + emb_dim)


def parametros_atencion(emb_dim: int, qkv_bias: bool = False) -> int:
    """Parámetros de MultiHeadAttention(emb_dim, emb_dim, ...): W_query, W_key, W_value y out_proj (con sesgo)."""
    return 4 * emb_dim * emb_dim + emb_dim + (3 * emb_dim if qkv_bias else 0)


def parametros_gpt(cfg: Mapping) -> int:
    """Parámetros de GPTModel(cfg), contados con la fórmula: la cabeza de salida no comparte pesos con tok_emb."""
    e, v = cfg["emb_dim"], cfg["vocab_size"]
    bloque = parametros_atencion(e, cfg["qkv_bias"]) + parametros_feed_forward(e) + 2 * (2 * e)  # + norm1, norm2
    return v * e + cfg["context_length"] * e + cfg["n_layers"] * bloque + 2 * e + e * v


# --- Ayudas comunes ------------------------------------------------------------------------------------------------

def _parametros_unicos(modelo: nn.Module) -> int:
    """Parámetros de un modelo contando una sola vez los compartidos (lo que hace .parameters())."""
    return sum(p.numel() for p in modelo.parameters())


def _cerca(a: float, b: float, tolerancia: float = 0.01) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=tolerancia)


# --- Ejercicio 4.1 -----------------------------------------------------------------------------------------------------

def comprobar_ejercicio_4_1(params_ff, params_att) -> bool:
    """Ejercicio 4.1: parámetros entrenables de la feed-forward (`params_ff`) y de la atención multicabeza
    (`params_att`) de un bloque transformer de GPT-2 (124M), con la configuración del curso."""
    nombre = "Ejercicio 4.1"
    if params_ff is None and params_att is None:
        return informar(nombre, None)
    e = GPT_CONFIG_124M["emb_dim"]
    ff, att = parametros_feed_forward(e), parametros_atencion(e, GPT_CONFIG_124M["qkv_bias"])
    mascara = GPT_CONFIG_124M["context_length"] ** 2
    bloque = ff + att + 4 * e
    problemas = []
    cuenta_ff, cuenta_att = a_entero(params_ff), a_entero(params_att)
    if cuenta_ff == att and cuenta_att == ff:
        return informar(nombre, [
            f"Has cambiado las dos cuentas de sitio: {miles(ff)} son los de la feed-forward (block.ff) y "
            f"{miles(att)} los de la atención (block.att)."
        ])

    if params_ff is None:
        problemas.append("params_ff sigue valiendo None: cuenta los parámetros de block.ff.")
    elif cuenta_ff is None:
        problemas.append(f"params_ff debe ser un número entero; es {describir(params_ff)} ({params_ff!r}).")
    elif cuenta_ff != ff:
        explicaciones = {
            8 * e * e: "son solo los pesos de las dos capas lineales: faltan sus sesgos (4·768 en la primera y 768 "
                       "en la segunda)",
            e * 4 * e + 4 * e: "son los de la primera capa lineal (768 → 3 072); la feed-forward tiene otra, de "
                               "3 072 → 768",
            4 * e * e + e: "son los de la segunda capa lineal (3 072 → 768); la feed-forward tiene otra, de "
                           "768 → 3 072",
            bloque: "son los del bloque entero (atención, feed-forward y normalizaciones); cuenta solo block.ff",
        }
        motivo = explicaciones.get(cuenta_ff, "no es el número de parámetros de block.ff: suma pesos y sesgos de sus "
                                              "dos capas lineales (GELU no tiene parámetros)")
        problemas.append(f"params_ff = {miles(cuenta_ff)}: {motivo}.")

    if params_att is None:
        problemas.append("params_att sigue valiendo None: cuenta los parámetros de block.att.")
    elif cuenta_att is None:
        problemas.append(f"params_att debe ser un número entero; es {describir(params_att)} ({params_att!r}).")
    elif cuenta_att != att:
        explicaciones = {
            parametros_atencion(e, qkv_bias=True): "es la cuenta con sesgo en consultas, claves y valores; la "
                                                   "configuración del curso usa qkv_bias=False, y solo out_proj "
                                                   "lleva sesgo",
            4 * e * e: "son solo los pesos: falta el sesgo de out_proj (768 números)",
            3 * e * e: "son los pesos de W_query, W_key y W_value: falta out_proj, que mezcla las cabezas "
                       "(768 · 768 pesos y 768 sesgos)",
            att + mascara: f"incluye los {miles(mascara)} números de la máscara causal (1024 × 1024), que es un "
                           "búfer y no un parámetro: cuenta con block.att.parameters(), no con state_dict()",
            bloque: "son los del bloque entero; cuenta solo block.att",
        }
        motivo = explicaciones.get(cuenta_att, "no es el número de parámetros de block.att: suma los pesos de "
                                               "W_query, W_key, W_value y out_proj, y el sesgo de out_proj")
        problemas.append(f"params_att = {miles(cuenta_att)}: {motivo}.")
    return informar(nombre, problemas)


# --- Ejercicio 4.2 -----------------------------------------------------------------------------------------------------

def _revisar_diccionario(nombre_variable: str, valor, pista: str) -> tuple[dict | None, list[str]]:
    """Comprueba que `valor` sea un diccionario con las claves "medium", "large" y "xl"."""
    if valor is None:
        return None, [f"{nombre_variable} sigue valiendo None: {pista}."]
    if not isinstance(valor, Mapping):
        return None, [
            f"{nombre_variable} debe ser un diccionario con las claves \"medium\", \"large\" y \"xl\"; es "
            f"{describir(valor)}."
        ]
    faltan = [clave for clave in TAMANOS_GPT2 if clave not in valor]
    if faltan:
        return None, [
            f"A {nombre_variable} le faltan las claves {', '.join(repr(c) for c in faltan)} (tiene "
            f"{', '.join(repr(c) for c in valor) or 'ninguna'})."
        ]
    return dict(valor), []


def comprobar_ejercicio_4_2(configs, num_params, tamanos_mb) -> bool:
    """Ejercicio 4.2: las configuraciones de GPT-2 medium, large y XL (`configs`), el número de parámetros de su
    GPTModel (`num_params`) y su tamaño en float32, en MB decimales (`tamanos_mb`); diccionarios con las claves
    "medium", "large" y "xl"."""
    nombre = "Ejercicio 4.2"
    if configs is None and num_params is None and tamanos_mb is None:
        return informar(nombre, None)
    problemas = []

    configs, faltan = _revisar_diccionario("configs", configs, "crea las tres configuraciones")
    problemas += faltan
    if configs is not None:
        for clave, cambios in TAMANOS_GPT2.items():
            cfg = configs[clave]
            if not isinstance(cfg, Mapping):
                problemas.append(f'configs["{clave}"] debe ser un diccionario como GPT_CONFIG_124M; es {describir(cfg)}.')
                continue
            esperada = {**GPT_CONFIG_124M, **cambios}
            faltan_claves = [k for k in esperada if k not in cfg]
            if faltan_claves:
                problemas.append(
                    f'A configs["{clave}"] le faltan las claves {", ".join(faltan_claves)}: parte de '
                    "GPT_CONFIG_124M con {**GPT_CONFIG_124M, ...}."
                )
                continue
            distintas = [f"{k}={cfg[k]!r} (debería ser {v!r})" for k, v in esperada.items() if cfg[k] != v]
            if distintas:
                problemas.append(f'configs["{clave}"] tiene {", ".join(distintas)}.')

    num_params, faltan = _revisar_diccionario("num_params", num_params, "cuenta los parámetros de cada modelo")
    problemas += faltan
    if num_params is not None:
        for clave, cambios in TAMANOS_GPT2.items():
            cfg = {**GPT_CONFIG_124M, **cambios}
            esperado = parametros_gpt(cfg)
            cuenta = a_entero(num_params[clave])
            if cuenta is None:
                problemas.append(
                    f'num_params["{clave}"] debe ser un número entero; es {describir(num_params[clave])} '
                    f"({num_params[clave]!r})."
                )
            elif cuenta == esperado - cfg["vocab_size"] * cfg["emb_dim"]:
                problemas.append(
                    f'num_params["{clave}"] = {miles(cuenta)} descuenta la cabeza de salida, como si compartiera '
                    "los pesos con tok_emb; GPTModel tiene las dos matrices por separado: cuéntalas las dos."
                )
            elif cuenta == parametros_gpt(GPT_CONFIG_124M):
                problemas.append(
                    f'num_params["{clave}"] = {miles(cuenta)} son los parámetros de GPT-2 (124M): cuenta los del '
                    f'modelo creado con configs["{clave}"].'
                )
            elif cuenta != esperado:
                problemas.append(
                    f'num_params["{clave}"] = {miles(cuenta)} no es el número de parámetros de '
                    f"GPTModel con emb_dim={cambios['emb_dim']}, n_layers={cambios['n_layers']} y "
                    f"n_heads={cambios['n_heads']}."
                )

    tamanos_mb, faltan = _revisar_diccionario("tamanos_mb", tamanos_mb, "calcula el tamaño de cada modelo en MB")
    problemas += faltan
    if tamanos_mb is not None:
        for clave, cambios in TAMANOS_GPT2.items():
            n = parametros_gpt({**GPT_CONFIG_124M, **cambios})
            esperado = n * 4 / MB
            mb = a_numero(tamanos_mb[clave])
            if mb is None:
                problemas.append(
                    f'tamanos_mb["{clave}"] debe ser un número; es {describir(tamanos_mb[clave])} '
                    f"({tamanos_mb[clave]!r})."
                )
                continue
            if _cerca(mb, esperado):
                continue
            motivos = [
                (n * 4 / MIB, "está en MiB (dividido entre 1024 × 1024); el curso usa MB decimales, 1 MB = 10⁶ "
                              "bytes"),
                (n * 4, "está en bytes: divide entre 10⁶ para pasarlo a MB"),
                (n * 4 / 1e9, "está en GB: multiplica por 1 000 para pasarlo a MB"),
                (n / MB, "cuenta 1 byte por parámetro; un float32 ocupa 4"),
                (n * 2 / MB, "cuenta 2 bytes por parámetro (bfloat16); en float32 cada número ocupa 4"),
                (n * 32 / MB, "cuenta 32 por parámetro, los bits de un float32; en bytes son 4"),
                ((n - cambios["emb_dim"] * GPT_CONFIG_124M["vocab_size"]) * 4 / MB,
                 "descuenta la cabeza de salida; cuenta las dos matrices, como las tiene GPTModel"),
            ]
            motivo = next((texto for valor, texto in motivos if _cerca(mb, valor)), None)
            if motivo is None:
                motivo = "no es el número de parámetros por 4 bytes, en MB (1 MB = 10⁶ bytes)"
            problemas.append(f'tamanos_mb["{clave}"] = {mb:.2f}: {motivo}.')
    return informar(nombre, problemas)


# --- Ejercicio 4.3 -----------------------------------------------------------------------------------------------------

# La configuración diminuta con que se prueba la clase del alumno: una tasa distinta en cada sitio
_CFG_DROPOUTS_DIMINUTA = {
    "vocab_size": 100,  # vocabulario diminuto
    "context_length": 16,  # longitud de contexto
    "emb_dim": 32,  # dimensión de los embeddings
    "n_heads": 2,  # cabezas de atención
    "n_layers": 2,  # bloques transformer
    "drop_rate_emb": 0.1,  # dropout tras los embeddings
    "drop_rate_shortcut": 0.2,  # dropout de los atajos
    "drop_rate_attn": 0.3,  # dropout de los pesos de atención
    "qkv_bias": False,  # sin sesgo en consulta, clave y valor
}


def _sitio_del_dropout(nombre_modulo: str) -> str:
    """Dónde está un nn.Dropout del modelo según su nombre: 'attn', 'shortcut' o 'emb'."""
    partes = nombre_modulo.split(".")
    if partes[0] == "trf_blocks":
        return "attn" if "att" in partes[2:-1] else "shortcut"
    return "emb"


def comprobar_ejercicio_4_3(config_dropouts, clase_modelo) -> bool:
    """Ejercicio 4.3: `config_dropouts` debe ser GPT_CONFIG_124M con drop_rate sustituido por drop_rate_emb,
    drop_rate_shortcut y drop_rate_attn, y `clase_modelo` una clase como GPTModel que ponga cada tasa en su sitio."""
    nombre = "Ejercicio 4.3"
    if config_dropouts is None and clase_modelo is None:
        return informar(nombre, None)
    problemas = []

    if config_dropouts is None:
        problemas.append("GPT_CONFIG_DROPOUTS sigue valiendo None: escribe la configuración con las tres tasas.")
    elif not isinstance(config_dropouts, Mapping):
        problemas.append(f"GPT_CONFIG_DROPOUTS debe ser un diccionario como GPT_CONFIG_124M; es {describir(config_dropouts)}.")
    else:
        faltan = [clave for clave in CLAVES_DROPOUT if clave not in config_dropouts]
        if faltan:
            problemas.append(f"A GPT_CONFIG_DROPOUTS le faltan las claves {', '.join(faltan)}.")
        for clave in CLAVES_DROPOUT:
            if clave in config_dropouts:
                tasa = a_numero(config_dropouts[clave])
                if tasa is None or not 0 <= tasa <= 1:
                    problemas.append(
                        f"GPT_CONFIG_DROPOUTS[\"{clave}\"] vale {config_dropouts[clave]!r}; una tasa de dropout es "
                        "un número entre 0 y 1."
                    )
                elif abs(tasa - 0.1) > 1e-12:
                    problemas.append(
                        f"GPT_CONFIG_DROPOUTS[\"{clave}\"] vale {tasa}; el enunciado pide 0.1, la tasa del GPT-2 "
                        "original, en los tres sitios."
                    )
        if "drop_rate" in config_dropouts:
            problemas.append(
                "GPT_CONFIG_DROPOUTS todavía tiene la clave drop_rate: quítala. Así, si alguna pieza del modelo la "
                "sigue leyendo, lo notarás con un error en lugar de usar una tasa equivocada sin saberlo."
            )
        otras = {k: v for k, v in GPT_CONFIG_124M.items() if k != "drop_rate"}
        distintas = [
            f"{k}={config_dropouts.get(k, 'sin definir')!r} (debería ser {v!r})"
            for k, v in otras.items() if config_dropouts.get(k) != v
        ]
        if distintas:
            problemas.append(f"Las demás claves deben ser las de GPT_CONFIG_124M: GPT_CONFIG_DROPOUTS tiene "
                             f"{', '.join(distintas)}.")

    if clase_modelo is None:
        problemas.append("GPTModelDropouts sigue valiendo None: escribe la clase.")
        return informar(nombre, problemas)
    if not callable(clase_modelo):
        problemas.append(f"GPTModelDropouts debe ser una clase, como GPTModel; es {describir(clase_modelo)}.")
        return informar(nombre, problemas)

    cfg = dict(_CFG_DROPOUTS_DIMINUTA)
    tasas = {"emb": cfg["drop_rate_emb"], "shortcut": cfg["drop_rate_shortcut"], "attn": cfg["drop_rate_attn"]}
    claves = {"emb": "drop_rate_emb", "shortcut": "drop_rate_shortcut", "attn": "drop_rate_attn"}
    descripcion = ", ".join(f"{k}={v}" for k, v in cfg.items())
    try:
        with torch.random.fork_rng(devices=[]):  # crear el modelo no gasta números aleatorios del cuaderno
            modelo = clase_modelo(cfg)
    except KeyError as error:
        problemas.append(
            f"Crear GPTModelDropouts con una configuración pequeña sin drop_rate ({descripcion}) da un KeyError "
            f"con la clave {error}: alguna pieza todavía lee cfg[{error}]."
        )
        return informar(nombre, problemas)
    except Exception as error:  # la respuesta del alumno puede fallar de cualquier forma
        problema = describir_error(f"Crear GPTModelDropouts con una configuración pequeña ({descripcion})", error)
        if isinstance(error, ValueError) and "drop_rate" in str(error):
            problema += (" GPTModel comprueba que la configuración tenga drop_rate: si heredas de él, pásale una "
                         "copia que la tenga.")
        problemas.append(problema)
        return informar(nombre, problemas)
    if not isinstance(modelo, nn.Module):
        problemas.append(f"GPTModelDropouts(cfg) devuelve {describir(modelo)}; debería ser un modelo (un nn.Module).")
        return informar(nombre, problemas)

    por_sitio: dict[str, list[tuple[str, float]]] = {"emb": [], "shortcut": [], "attn": []}
    for nombre_modulo, modulo in modelo.named_modules():
        if isinstance(modulo, nn.Dropout):
            por_sitio[_sitio_del_dropout(nombre_modulo)].append((nombre_modulo, float(modulo.p)))
    donde = {
        "emb": "tras los embeddings (drop_emb)",
        "shortcut": "de los atajos de cada bloque (drop_shortcut)",
        "attn": "de los pesos de atención (el dropout de cada att)",
    }
    for sitio, capas in por_sitio.items():
        if not capas:
            problemas.append(f"El modelo no tiene ningún nn.Dropout {donde[sitio]}.")
            continue
        malas = [(n, p) for n, p in capas if not math.isclose(p, tasas[sitio])]
        if malas:
            n, p = malas[0]
            de_otra = [claves[s] for s, t in tasas.items() if s != sitio and math.isclose(p, t)]
            origen = f", la tasa de {de_otra[0]}" if de_otra else ""
            problemas.append(
                f"Los dropout {donde[sitio]} deberían usar cfg[\"{claves[sitio]}\"] = {tasas[sitio]}, pero {n} "
                f"tiene p={p}{origen}" + (f" (y {len(malas) - 1} más)." if len(malas) > 1 else ".")
            )
    if problemas:
        return informar(nombre, problemas)

    ids = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    estaba_entrenando = modelo.training
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            modelo.eval()
            logits = modelo(ids)
    except Exception as error:  # la respuesta del alumno puede fallar de cualquier forma
        problemas.append(describir_error("Llamar al modelo con un lote de forma (2, 4)", error))
        return informar(nombre, problemas)
    finally:
        modelo.train(estaba_entrenando)
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (2, 4, cfg["vocab_size"]):
        problemas.append(
            f"Con un lote de forma (2, 4) y vocab_size={cfg['vocab_size']}, el modelo devuelve {describir(logits)}; "
            f"se esperaba un tensor de forma (2, 4, {cfg['vocab_size']})."
        )
    return informar(nombre, problemas)


# --- Ejercicio 4.4 -----------------------------------------------------------------------------------------------------

def _decodificar(ids: list[int]) -> str:
    from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer

    return get_tokenizer().decode(ids)


def comprobar_ejercicio_4_4(model, salida, texto) -> bool:
    """Ejercicio 4.4: `salida` (1, 3 + 8) deben ser los ids de «I really like» seguidos de los 8 tokens que elige
    la decodificación voraz con `model`, y `texto` su decodificación."""
    nombre = "Ejercicio 4.4"
    if salida is None and texto is None:
        return informar(nombre, None)
    if not isinstance(model, nn.Module):
        return informar(nombre, [f"model debe ser el GPTModel del apartado 10; es {describir(model)}."])
    problemas = []
    n_inicio, total = len(IDS_INICIO), len(IDS_INICIO) + NUEVOS_TOKENS
    if salida is None:
        return informar(nombre, ["salida sigue valiendo None: guarda lo que devuelve generate_text_simple."])
    if not isinstance(salida, torch.Tensor) or salida.is_floating_point():
        return informar(nombre, [
            f"salida debe ser el tensor de ids que devuelve generate_text_simple; es {describir(salida)}."
        ])
    if salida.dim() == 1 and salida.numel() == total:
        return informar(nombre, [
            f"salida tiene forma {tuple(salida.shape)}: le falta la dimensión del lote. Guarda lo que devuelve "
            f"generate_text_simple tal cual, de forma (1, {total})."
        ])
    if salida.dim() != 2 or salida.shape[0] != 1:
        return informar(nombre, [
            f"salida tiene forma {tuple(salida.shape)}; se esperaba (1, {total}): un texto, con la dimensión del lote."
        ])
    ids = salida[0].tolist()
    if ids[:n_inicio] != IDS_INICIO:
        problemas.append(
            f"salida empieza por {ids[:n_inicio]}; los ids de «{TEXTO_INICIO}» son {IDS_INICIO}. Codifica ese texto "
            "con tokenizer.encode."
        )
        return informar(nombre, problemas)
    if len(ids) != total:
        problemas.append(
            f"salida tiene {len(ids)} tokens: los {n_inicio} de «{TEXTO_INICIO}» y {len(ids) - n_inicio} nuevos. El "
            f"ejercicio pide {NUEVOS_TOKENS} nuevos (max_new_tokens={NUEVOS_TOKENS}): {total} en total."
        )
        return informar(nombre, problemas)

    estaba_entrenando = model.training
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            model.eval()
            for paso in range(NUEVOS_TOKENS):
                posicion = n_inicio + paso
                logits = model(salida[:, :posicion])[:, -1, :]  # (1, vocab_size)
                mejor = int(torch.argmax(logits, dim=-1).item())
                if ids[posicion] != mejor:
                    elegido, esperado = _decodificar([ids[posicion]]), _decodificar([mejor])
                    explicacion = (
                        " El modelo está en modo entrenamiento: el dropout cambia los logits en cada llamada. "
                        "Llama antes a model.eval()."
                        if estaba_entrenando else
                        " generate_text_simple elige siempre el más probable: ¿has generado con otra función o "
                        "con otro modelo?"
                    )
                    problemas.append(
                        f"El token nuevo número {paso + 1} es {ids[posicion]} ({elegido!r}), pero el más probable "
                        f"según model era {mejor} ({esperado!r}).{explicacion}"
                    )
                    break
    except Exception as error:  # el modelo del alumno puede fallar de cualquier forma
        problemas.append(describir_error("Repetir la generación con model", error))
        return informar(nombre, problemas)
    finally:
        model.train(estaba_entrenando)
    if problemas:
        return informar(nombre, problemas)

    if texto is None:
        problemas.append("texto sigue valiendo None: decodifica salida con tokenizer.decode.")
    elif not isinstance(texto, str):
        problemas.append(f"texto debe ser una cadena (str); es {describir(texto)}.")
    else:
        try:
            completo, nuevo = _decodificar(ids), _decodificar(ids[n_inicio:])
        except Exception as error:  # sin tokenizador no se puede comparar el texto
            problemas.append(describir_error("Decodificar salida", error))
            return informar(nombre, problemas)
        if texto == nuevo:
            problemas.append(
                f"texto solo tiene los tokens nuevos ({texto!r}); decodifica la salida entera, que empieza por "
                f"«{TEXTO_INICIO}»."
            )
        elif texto != completo:
            problemas.append(f"texto es {texto!r}, pero salida decodificada es {completo!r}.")
    return informar(nombre, problemas)


# --- Ejercicio 4.5 -----------------------------------------------------------------------------------------------------

def comprobar_ejercicio_4_5(model, tamano_fp32_mb, tamano_bf16_mb) -> bool:
    """Ejercicio 4.5: tamaño de los parámetros de `model` en MB decimales, en float32 (4 bytes por número) y en
    bfloat16 (2 bytes)."""
    nombre = "Ejercicio 4.5"
    if tamano_fp32_mb is None and tamano_bf16_mb is None:
        return informar(nombre, None)
    if not isinstance(model, nn.Module):
        return informar(nombre, [f"model debe ser el GPTModel del apartado 10; es {describir(model)}."])
    n = _parametros_unicos(model)
    en_buferes = sum(b.numel() for b in model.buffers())
    problemas = []
    for variable, valor, bytes_por_numero, tipo in (
        ("tamano_fp32_mb", tamano_fp32_mb, 4, "float32"),
        ("tamano_bf16_mb", tamano_bf16_mb, 2, "bfloat16"),
    ):
        if valor is None:
            problemas.append(f"{variable} sigue valiendo None: calcula el tamaño en {tipo}.")
            continue
        mb = a_numero(valor)
        if mb is None:
            problemas.append(f"{variable} debe ser un número; es {describir(valor)} ({valor!r}).")
            continue
        esperado = n * bytes_por_numero / MB
        if _cerca(mb, esperado):
            continue
        otro = 6 - bytes_por_numero  # el otro tipo: 2 bytes si este es de 4, y al revés
        pos_emb = getattr(model, "pos_emb", None)  # con otro context_length cambian sus filas, y nada más
        con_1024 = n + (1024 - pos_emb.num_embeddings) * pos_emb.embedding_dim if isinstance(
            pos_emb, nn.Embedding) else None
        motivos = [
            (n * bytes_por_numero / MIB, "está en MiB (dividido entre 1024 × 1024); el curso usa MB decimales, "
                                         "1 MB = 10⁶ bytes"),
            (n * bytes_por_numero, "está en bytes: divide entre 10⁶ para pasarlo a MB"),
            (n * bytes_por_numero / 1e9, "está en GB: multiplica por 1 000 para pasarlo a MB"),
            (n * otro / MB, f"cuenta {otro} bytes por número; un {tipo} ocupa {bytes_por_numero}"),
            (n * bytes_por_numero * 8 / MB, f"cuenta bits: un {tipo} tiene {8 * bytes_por_numero} bits, que son "
                                            f"{bytes_por_numero} bytes"),
            ((n + en_buferes) * bytes_por_numero / MB, "incluye los búferes (las máscaras causales de cada bloque), "
                                                       "que no son parámetros: cuenta con model.parameters(), no con "
                                                       "state_dict()"),
        ]
        if con_1024 is not None and con_1024 != n:
            motivos.append((con_1024 * bytes_por_numero / MB,
                            "es el tamaño del modelo de context_length=1024 del apartado 9; model tiene "
                            f"context_length={pos_emb.num_embeddings}: cuenta sus parámetros"))
        motivo = next((texto for v, texto in motivos if _cerca(mb, v)), None)
        if motivo is None:
            motivo = (f"se esperaba el número de parámetros de model ({miles(n)}) por {bytes_por_numero} bytes, en "
                      "MB (1 MB = 10⁶ bytes)")
        problemas.append(f"{variable} = {mb:.2f}: {motivo}.")
    return informar(nombre, problemas)


# --- Ejercicio 4.6 -----------------------------------------------------------------------------------------------------

def comprobar_ejercicio_4_6(x, salida, medias, varianzas) -> bool:
    """Ejercicio 4.6: `salida` debe ser `x` (b, emb_dim) normalizado por un LayerNorm recién creado, y `medias` y
    `varianzas` (b,) la media y la varianza sesgada de cada vector de la salida."""
    nombre = "Ejercicio 4.6"
    if salida is None and medias is None and varianzas is None:
        return informar(nombre, None)
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or not x.is_floating_point():
        return informar(nombre, [f"x debería ser el tensor del enunciado, de forma (3, 8); es {describir(x)}."])
    x = x.detach().float()
    filas, columnas = x.shape
    esperada = nn.functional.layer_norm(x, (columnas,), eps=1e-5)
    problemas = []

    if salida is None:
        problemas.append("salida sigue valiendo None: pasa x por un LayerNorm.")
    elif not isinstance(salida, torch.Tensor) or salida.shape != x.shape:
        problemas.append(f"salida debe tener la forma de x, {tuple(x.shape)}; es {describir(salida)}.")
    else:
        s = salida.detach().float()
        por_columnas = (x - x.mean(dim=0, keepdim=True)) / torch.sqrt(x.var(dim=0, keepdim=True, unbiased=False) + 1e-5)
        if torch.allclose(s, x):
            problemas.append("salida es x sin cambios: pásalo por el LayerNorm (ln(x)).")
        elif torch.allclose(s, por_columnas, atol=1e-4):
            problemas.append(
                "salida está normalizada por columnas (dim=0): LayerNorm normaliza cada vector, es decir, cada fila "
                "(la última dimensión)."
            )
        elif not torch.allclose(s, esperada, atol=1e-4):
            problemas.append(
                f"salida no es x normalizado por un LayerNorm({columnas}) recién creado (escala 1, desplazamiento "
                f"0): su primera fila es {valores(s[0])} y debería ser {valores(esperada[0])}."
            )

    for variable, valor, esperado, que in (
        ("medias", medias, esperada.mean(dim=-1), "la media"),
        ("varianzas", varianzas, esperada.var(dim=-1, unbiased=False), "la varianza"),
    ):
        if valor is None:
            problemas.append(f"{variable} sigue valiendo None: calcula {que} de cada fila de salida.")
            continue
        if not isinstance(valor, torch.Tensor):
            problemas.append(f"{variable} debe ser un tensor con {filas} números, uno por fila; es {describir(valor)}.")
            continue
        v = valor.detach().float().flatten()
        if v.numel() == columnas and columnas != filas:
            problemas.append(
                f"{variable} tiene {columnas} números, uno por columna: calcula {que} de cada fila, con dim=-1."
            )
            continue
        if v.numel() != filas:
            problemas.append(f"{variable} debe tener {filas} números, uno por fila; es {describir(valor)}.")
            continue
        if torch.allclose(v, esperado, atol=1e-4):
            continue
        insesgada = esperada.var(dim=-1, unbiased=True)
        if variable == "varianzas" and torch.allclose(v, insesgada, atol=1e-4):
            problemas.append(
                f"varianzas vale {valores(v)}: es la varianza insesgada, que divide entre n − 1 = {columnas - 1}. "
                f"LayerNorm usa la sesgada, que divide entre n = {columnas}: pasa unbiased=False."
            )
        else:
            problemas.append(f"{variable} vale {valores(v)}; {que} de cada fila de salida es {valores(esperado)}.")
    return informar(nombre, problemas)


# --- Ejercicio 4.7 -----------------------------------------------------------------------------------------------------

def comprobar_ejercicio_4_7(model_atado, num_params_atado) -> bool:
    """Ejercicio 4.7: `model_atado` debe ser un GPTModel(GPT_CONFIG_124M) cuya cabeza de salida use el mismo
    parámetro que su embedding de tokens, y `num_params_atado` el número de sus parámetros, contando una vez el
    compartido."""
    nombre = "Ejercicio 4.7"
    if model_atado is None and num_params_atado is None:
        return informar(nombre, None)
    problemas = []
    if model_atado is None:
        return informar(nombre, ["model_atado sigue valiendo None: crea el GPTModel y comparte su matriz."])
    tok_emb, out_head = getattr(model_atado, "tok_emb", None), getattr(model_atado, "out_head", None)
    if not isinstance(tok_emb, nn.Embedding) or not isinstance(out_head, nn.Linear):
        return informar(nombre, [
            f"model_atado debería ser un GPTModel, con tok_emb y out_head; es {describir(model_atado)}."
        ])
    cfg = GPT_CONFIG_124M
    trf_blocks = getattr(model_atado, "trf_blocks", ())
    pos_emb = getattr(model_atado, "pos_emb", None)
    tamano = {
        "vocab_size": tok_emb.num_embeddings,
        "emb_dim": tok_emb.embedding_dim,
        "context_length": pos_emb.num_embeddings if isinstance(pos_emb, nn.Embedding) else None,
        "n_layers": len(trf_blocks) if isinstance(trf_blocks, nn.Sequential) else None,
    }
    distintas = [f"{k}={v}" for k, v in tamano.items() if v != cfg[k]]
    if distintas:
        problemas.append(
            f"model_atado tiene {', '.join(distintas)}: debe ser un GPTModel(GPT_CONFIG_124M) "
            f"({', '.join(f'{k}={cfg[k]}' for k in tamano)})."
        )
    if out_head.weight is not tok_emb.weight:
        problemas.append(
            "model_atado.out_head.weight y model_atado.tok_emb.weight son dos parámetros distintos (aunque tengan "
            "los mismos números): al entrenar, cada uno cambiaría por su lado. Asigna el parámetro, "
            "model_atado.out_head.weight = model_atado.tok_emb.weight, en lugar de copiar sus valores."
        )
    unicos = _parametros_unicos(model_atado)
    matriz = tok_emb.weight.numel()
    if num_params_atado is None:
        problemas.append("num_params_atado sigue valiendo None: cuenta los parámetros de model_atado.")
        return informar(nombre, problemas)
    cuenta = a_entero(num_params_atado)
    if cuenta is None:
        problemas.append(f"num_params_atado debe ser un número entero; es {describir(num_params_atado)} "
                         f"({num_params_atado!r}).")
        return informar(nombre, problemas)
    # Lo que debe dar la cuenta cuando la matriz está compartida: la de parameters(), con la matriz una vez
    esperado = unicos if out_head.weight is tok_emb.weight else unicos - matriz
    en_state_dict = sum(t.numel() for t in model_atado.state_dict().values())
    if cuenta == esperado:
        pass
    elif cuenta == esperado + matriz:
        problemas.append(
            f"num_params_atado = {miles(cuenta)} cuenta dos veces la matriz compartida ({miles(matriz)} números). "
            "Cuenta con model_atado.parameters(), que da una sola vez cada parámetro."
        )
    elif cuenta == esperado - matriz:
        problemas.append(
            f"num_params_atado = {miles(cuenta)} descuenta la matriz compartida: una vez compartida, "
            "parameters() ya la cuenta una sola vez, así que no hay que restar nada."
        )
    elif cuenta == en_state_dict:
        problemas.append(
            f"num_params_atado = {miles(cuenta)} es lo que suma el state_dict, que tiene la matriz dos veces (una "
            "por nombre) y las máscaras causales, que son búferes: cuenta con model_atado.parameters()."
        )
    else:
        problemas.append(
            f"num_params_atado = {miles(cuenta)}; con la matriz compartida contada una vez, model_atado tiene "
            f"{miles(esperado)} parámetros."
        )
    return informar(nombre, problemas)
