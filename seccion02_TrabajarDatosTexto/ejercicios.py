"""Comprobaciones de los ejercicios de la sección 2 (trabajar con datos de texto).

Cada función `comprobar_ejercicio_2_N` recibe tu respuesta, imprime «¡correcto!», «todavía sin resolver» (si la
respuesta sigue en None) o lo que falta, y devuelve True solo si la respuesta es correcta. Nunca lanza un error por
una respuesta equivocada: si tu código falla al usarlo, te dice con qué error.

Los enunciados están al final de los dos cuadernos de esta carpeta (los ejercicios 2.1 a 2.3 en
1_trabajar_datos_texto.ipynb y los 2.4 a 2.7 en 2_cargador_datos_embeddings.ipynb), y las soluciones en
seccion02_TrabajarDatosTexto/soluciones.ipynb.
"""

from __future__ import annotations

import functools
import math
import numbers

import torch
import torch.nn as nn

from seccion02_TrabajarDatosTexto.comprobarEjercicio import a_entero, describir, describir_error, informar, miles
from seccion02_TrabajarDatosTexto.simpleTokenizer import SimpleTokenizerV2, build_vocab, simple_tokenize
from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer

# Los tokens especiales del apartado 5 del cuaderno 1, en el mismo orden
TOKENS_ESPECIALES = ["<|endoftext|>", "<|unk|>"]

# Ejercicio 2.5: la configuración por defecto de create_dataloader_v1
MAX_LENGTH_25, STRIDE_25, BATCH_SIZE_25 = 256, 128, 4

# Ejercicio 2.6: lotes de 2 ventanas de 6 tokens y vectores de 12 números
BATCH_SIZE_26, MAX_LENGTH_26, OUTPUT_DIM_26 = 2, 6, 12


@functools.lru_cache(maxsize=1)
def _ids_the_verdict() -> tuple[int, ...]:
    """Los 5 145 ids BPE de «The Verdict» (se leen del disco y se tokenizan una sola vez)."""
    return tuple(get_tokenizer().encode(load_the_verdict()))


def _lista_de_enteros(x):
    """Una lista de enteros de Python a partir de una lista, una tupla o un tensor de enteros; None si no lo es."""
    if isinstance(x, torch.Tensor):
        if x.is_floating_point() or x.dtype == torch.bool:
            return None
        return [int(v) for v in x.flatten().tolist()]
    if isinstance(x, (list, tuple)):
        enteros = [a_entero(v) for v in x]
        return None if any(v is None for v in enteros) else enteros
    return None


# --- Cuaderno 1 -------------------------------------------------------------------------------------------------------

def comprobar_ejercicio_2_1(texto, ids, trozos, reconstruido) -> bool:
    """Ejercicio 2.1: `ids` son los ids BPE de `texto`, `trozos` el texto de cada id decodificado por separado y
    `reconstruido` el texto original, recompuesto a partir de los trozos."""
    nombre = "Ejercicio 2.1"
    if ids is None and trozos is None and reconstruido is None:
        return informar(nombre, None)
    if not isinstance(texto, str) or not texto:
        return informar(nombre, [f"texto debe ser una cadena con el texto que tokenizas; es {describir(texto)}."])
    tokenizer = get_tokenizer()
    esperados = tokenizer.encode(texto)
    trozos_esperados = [tokenizer.decode([i]) for i in esperados]
    problemas = []

    if ids is None:
        problemas.append("ids sigue valiendo None: codifica el texto con tokenizer.encode.")
    else:
        lista = _lista_de_enteros(ids)
        if lista is None:
            problemas.append(f"ids debe ser la lista de enteros que devuelve tokenizer.encode; es {describir(ids)}.")
        elif lista != esperados:
            problemas.append(
                f"ids = {lista}, pero tokenizer.encode({texto!r}) da {esperados}. Codifica exactamente el texto de "
                "texto, con el tokenizador BPE de get_tokenizer()."
            )

    if trozos is None:
        problemas.append("trozos sigue valiendo None: decodifica cada id por separado.")
    elif isinstance(trozos, str):
        problemas.append(
            "trozos es una sola cadena: has decodificado todos los ids a la vez. Decodifica cada id por separado, "
            "tokenizer.decode([token_id]), y guarda los trozos en una lista."
        )
    elif not isinstance(trozos, (list, tuple)):
        problemas.append(f"trozos debe ser una lista con el texto de cada id; es {describir(trozos)}.")
    elif any(isinstance(t, bytes) for t in trozos):
        problemas.append(
            "trozos tiene bytes (b'...'), no cadenas de texto. Usa tokenizer.decode([token_id]), que devuelve una "
            "cadena (str)."
        )
    elif list(trozos) != trozos_esperados:
        problemas.append(
            f"trozos = {list(trozos)!r}; decodificando cada id de {texto!r} por separado salen "
            f"{trozos_esperados!r}, uno por id."
        )

    if reconstruido is None:
        problemas.append("reconstruido sigue valiendo None: vuelve a juntar los trozos.")
    elif not isinstance(reconstruido, str):
        problemas.append(f"reconstruido debe ser una cadena de texto; es {describir(reconstruido)}.")
    elif reconstruido != texto:
        if reconstruido == " ".join(trozos_esperados):
            problemas.append(
                f"reconstruido = {reconstruido!r} tiene espacios de más: has unido los trozos con espacios. En BPE los "
                "espacios ya están en los tokens (' do', ' you') o son tokens propios (' '), así que basta con pegar "
                "los trozos sin separador: ''.join(trozos)."
            )
        elif reconstruido == "".join(trozos_esperados):
            problemas.append(
                f"Al pegar los trozos sale {reconstruido!r}, no {texto!r}: algún id es un trozo de un carácter (un "
                "byte suelto de una letra con tilde, por ejemplo) y, decodificado solo, da «\ufffd». Reconstruye el "
                "texto con tokenizer.decode(ids), que decodifica los bytes juntos, o elige un texto sin tildes."
            )
        else:
            problemas.append(f"reconstruido = {reconstruido!r}; debería ser el texto original, {texto!r}.")
    return informar(nombre, problemas)


def comprobar_ejercicio_2_2(frase_es, frase_en, n_es, n_en, razon) -> bool:
    """Ejercicio 2.2: `n_es` y `n_en` son los tokens BPE de `frase_es` y `frase_en`, y `razon` = n_es / n_en."""
    nombre = "Ejercicio 2.2"
    if n_es is None and n_en is None and razon is None:
        return informar(nombre, None)
    frases = {"frase_es": frase_es, "frase_en": frase_en}
    malas = [f"{clave} debe ser una cadena de texto; es {describir(valor)}." for clave, valor in frases.items()
             if not isinstance(valor, str) or not valor]
    if malas:
        return informar(nombre, malas)
    tokenizer = get_tokenizer()
    esperados = {"es": len(tokenizer.encode(frase_es)), "en": len(tokenizer.encode(frase_en))}
    problemas = []
    recibidos = {}
    for idioma, valor, frase in (("es", n_es, frase_es), ("en", n_en, frase_en)):
        variable = f"n_{idioma}"
        if valor is None:
            problemas.append(f"{variable} sigue valiendo None: cuenta los tokens BPE de frase_{idioma}.")
            continue
        cuenta = a_entero(valor)
        if cuenta is None:
            problemas.append(f"{variable} debe ser un número entero de tokens; es {describir(valor)} ({valor!r}).")
            continue
        recibidos[idioma] = cuenta
        if cuenta == esperados[idioma]:
            continue
        if cuenta == len(frase):
            pista = "es su número de caracteres, len(frase). Cuenta los ids: len(tokenizer.encode(frase))."
        elif cuenta == len(frase.split()):
            pista = "es su número de palabras. BPE parte muchas palabras en varios tokens: cuenta los ids."
        elif cuenta == len(simple_tokenize(frase)):
            pista = "son los tokens de simple_tokenize. El ejercicio pide los del tokenizador BPE de GPT-2."
        else:
            pista = "no es el número de ids que da tokenizer.encode."
        problemas.append(f"{variable} = {cuenta} {pista}")

    if razon is None:
        problemas.append("razon sigue valiendo None: divide los tokens en español entre los tokens en inglés.")
    elif isinstance(razon, bool) or not isinstance(razon, (numbers.Real, torch.Tensor)) or (
        isinstance(razon, torch.Tensor) and razon.numel() != 1
    ):
        problemas.append(f"razon debe ser un número; es {describir(razon)}.")
    else:
        valor = float(razon)
        base_es, base_en = recibidos.get("es", esperados["es"]), recibidos.get("en", esperados["en"])
        correcta = esperados["es"] / esperados["en"]
        if math.isclose(valor, correcta, abs_tol=0.005):
            pass
        elif math.isclose(valor, esperados["en"] / esperados["es"], abs_tol=0.005):
            problemas.append(
                f"razon = {valor:.3f} está al revés: es n_en / n_es. El ejercicio pide cuántos tokens necesita el "
                f"español por cada token del inglés, n_es / n_en = {correcta:.3f}."
            )
        elif base_en and math.isclose(valor, base_es / base_en, abs_tol=0.005):
            problemas.append(
                f"razon = {valor:.3f} es n_es / n_en con tus cuentas, pero las cuentas no son las de BPE: corrígelas "
                "y vuelve a dividir."
            )
        else:
            problemas.append(f"razon = {valor:.3f}; debería ser n_es / n_en.")
    return informar(nombre, problemas)


def comprobar_ejercicio_2_3(texto_corto, frase, vocab_corto, ids_frase, frase_decodificada) -> bool:
    """Ejercicio 2.3: `vocab_corto` es el vocabulario de `texto_corto` con los tokens especiales al final, y
    `ids_frase` y `frase_decodificada` salen de codificar `frase` con SimpleTokenizerV2 y decodificarla."""
    nombre = "Ejercicio 2.3"
    if vocab_corto is None and ids_frase is None and frase_decodificada is None:
        return informar(nombre, None)
    malas = [f"{clave} debe ser una cadena de texto; es {describir(valor)}."
             for clave, valor in (("texto_corto", texto_corto), ("frase", frase)) if not isinstance(valor, str)]
    if malas:
        return informar(nombre, malas)
    vocab_esperado = build_vocab(simple_tokenize(texto_corto), special_tokens=TOKENS_ESPECIALES)
    tokenizer = SimpleTokenizerV2(vocab_esperado)
    ids_esperados = tokenizer.encode(frase)
    decodificada_esperada = tokenizer.decode(ids_esperados)
    problemas = []

    if vocab_corto is None:
        problemas.append("vocab_corto sigue valiendo None: construye el vocabulario de texto_corto con build_vocab.")
    elif not isinstance(vocab_corto, dict):
        problemas.append(f"vocab_corto debe ser un diccionario {{token: id}}; es {describir(vocab_corto)}.")
    elif vocab_corto != vocab_esperado:
        faltan = [t for t in TOKENS_ESPECIALES if t not in vocab_corto]
        if len(vocab_corto) > 10 * len(vocab_esperado):
            problemas.append(
                f"vocab_corto tiene {miles(len(vocab_corto))} tokens: es el vocabulario de otro texto (¿el de «The "
                f"Verdict»?). Construye uno nuevo solo con los tokens de texto_corto: tendrá {len(vocab_esperado)}."
            )
        elif faltan:
            problemas.append(
                f"A vocab_corto le faltan los tokens especiales {faltan}: pásalos a build_vocab con "
                "special_tokens=['<|endoftext|>', '<|unk|>']."
            )
        elif set(vocab_corto) == set(vocab_esperado):
            problemas.append(
                "vocab_corto tiene los tokens correctos, pero con otros ids: build_vocab ordena los tokens del texto "
                "alfabéticamente y añade al final '<|endoftext|>' y '<|unk|>', en ese orden."
            )
        elif vocab_corto == build_vocab(texto_corto.split(), special_tokens=TOKENS_ESPECIALES):
            problemas.append(
                "vocab_corto tiene los signos de puntuación pegados a las palabras (lo troceaste con split()). "
                "Trocea el texto con simple_tokenize."
            )
        else:
            problemas.append(
                f"vocab_corto tiene {len(vocab_corto)} tokens y no es build_vocab(simple_tokenize(texto_corto), "
                f"special_tokens=['<|endoftext|>', '<|unk|>']), que tiene {len(vocab_esperado)}."
            )

    if ids_frase is None:
        problemas.append("ids_frase sigue valiendo None: codifica frase con un SimpleTokenizerV2 de vocab_corto.")
    else:
        lista = _lista_de_enteros(ids_frase)
        if lista is None:
            problemas.append(f"ids_frase debe ser una lista de enteros; es {describir(ids_frase)}.")
        elif lista != ids_esperados:
            problemas.append(
                f"ids_frase = {lista}; con el vocabulario de texto_corto, frase se codifica como {ids_esperados} "
                f"(cada palabra desconocida es <|unk|>, el id {vocab_esperado['<|unk|>']})."
            )

    if frase_decodificada is None:
        problemas.append("frase_decodificada sigue valiendo None: decodifica ids_frase.")
    elif not isinstance(frase_decodificada, str):
        problemas.append(f"frase_decodificada debe ser una cadena de texto; es {describir(frase_decodificada)}.")
    elif frase_decodificada != decodificada_esperada:
        if frase_decodificada == frase and frase != decodificada_esperada:
            problemas.append(
                "frase_decodificada es la frase original, pero al decodificar los ids de SimpleTokenizerV2 la "
                f"palabra desconocida ya no se puede recuperar: sale {decodificada_esperada!r}. Decodifica ids_frase "
                "con el mismo tokenizador."
            )
        else:
            problemas.append(
                f"frase_decodificada = {frase_decodificada!r}; decodificando los ids debería salir "
                f"{decodificada_esperada!r}."
            )
    return informar(nombre, problemas)


# --- Cuaderno 2 -------------------------------------------------------------------------------------------------------

def _ventana_y_stride(dataset) -> tuple[int, int | None, bool]:
    """(max_length, stride, sale_del_relato) de un GPTDatasetV1, deducidos de sus dos primeras ventanas."""
    ids = _ids_the_verdict()
    primera = dataset.input_ids[0].tolist()
    max_length = len(primera)
    if tuple(primera) != ids[:max_length]:
        return max_length, None, False
    if len(dataset) < 2:
        return max_length, None, True
    segunda = tuple(dataset.input_ids[1].tolist())
    stride = next((s for s in range(1, len(ids) - max_length + 1) if ids[s : s + max_length] == segunda), None)
    return max_length, stride, True


def _problemas_cargador(variable: str, cargador, max_length: int, stride: int, batch_size: int) -> list[str]:
    """Lo que está mal en un cargador de «The Verdict» que debería tener esta configuración y shuffle=False."""
    if cargador is None:
        return [f"{variable} sigue valiendo None: créalo con create_dataloader_v1."]
    if not isinstance(cargador, torch.utils.data.DataLoader):
        return [f"{variable} debe ser el DataLoader que devuelve create_dataloader_v1; es {describir(cargador)}."]
    dataset = cargador.dataset
    if not hasattr(dataset, "input_ids") or not len(dataset):
        return [f"{variable} no es un cargador de GPTDatasetV1: usa create_dataloader_v1."]
    problemas = []
    if cargador.batch_size != batch_size:
        problemas.append(f"{variable} da lotes de {cargador.batch_size} ventanas; el ejercicio pide batch_size={batch_size}.")
    if isinstance(cargador.sampler, torch.utils.data.RandomSampler):
        problemas.append(
            f"{variable} baraja las ventanas (shuffle=True). Usa shuffle=False, para que el primer lote sea el "
            "principio del relato."
        )
    longitud, paso, del_relato = _ventana_y_stride(dataset)
    if not del_relato:
        problemas.append(f"La primera ventana de {variable} no es el principio de «The Verdict»: usa raw_text.")
        return problemas
    if longitud != max_length:
        problemas.append(f"Las ventanas de {variable} tienen {longitud} tokens; el ejercicio pide max_length={max_length}.")
    if paso is not None and paso != stride:
        problemas.append(
            f"Las ventanas de {variable} avanzan {paso} tokens cada vez (stride={paso}); el ejercicio pide "
            f"stride={stride}."
        )
    return problemas


def comprobar_ejercicio_2_4(cargador_2, cargador_8) -> bool:
    """Ejercicio 2.4: dos cargadores de «The Verdict» con batch_size=4 y shuffle=False: `cargador_2` con
    max_length=2 y stride=2, y `cargador_8` con max_length=8 y stride=2."""
    nombre = "Ejercicio 2.4"
    if cargador_2 is None and cargador_8 is None:
        return informar(nombre, None)
    if cargador_2 is not None and cargador_2 is cargador_8:
        return informar(nombre, ["cargador_2 y cargador_8 son el mismo objeto: crea dos cargadores, uno con cada max_length."])
    try:
        problemas = _problemas_cargador("cargador_2", cargador_2, 2, 2, 4)
        problemas += _problemas_cargador("cargador_8", cargador_8, 8, 2, 4)
    except Exception as error:  # la respuesta del alumno puede fallar de cualquier forma
        problemas = [describir_error("Leer las ventanas de los cargadores", error)]
    return informar(nombre, problemas)


def comprobar_ejercicio_2_5(num_ventanas, num_lotes_descartando, num_lotes_sin_descartar) -> bool:
    """Ejercicio 2.5: ventanas y lotes de «The Verdict» con max_length=256, stride=128 y batch_size=4, con
    drop_last=True (`num_lotes_descartando`) y con drop_last=False (`num_lotes_sin_descartar`)."""
    nombre = "Ejercicio 2.5"
    respuestas = {
        "num_ventanas": num_ventanas,
        "num_lotes_descartando": num_lotes_descartando,
        "num_lotes_sin_descartar": num_lotes_sin_descartar,
    }
    if all(valor is None for valor in respuestas.values()):
        return informar(nombre, None)
    n = len(_ids_the_verdict())
    hueco = n - MAX_LENGTH_25  # posiciones de inicio posibles: range(0, hueco, stride)
    ventanas = math.ceil(hueco / STRIDE_25)
    esperados = {
        "num_ventanas": ventanas,
        "num_lotes_descartando": ventanas // BATCH_SIZE_25,
        "num_lotes_sin_descartar": math.ceil(ventanas / BATCH_SIZE_25),
    }
    problemas = []
    enteros = {}
    for variable, valor in respuestas.items():
        if valor is None:
            problemas.append(f"{variable} sigue valiendo None.")
            continue
        entero = a_entero(valor)
        if entero is None:
            problemas.append(
                f"{variable} debe ser un número entero; es {describir(valor)} ({valor!r}). math.ceil y // ya devuelven "
                "enteros."
            )
        else:
            enteros[variable] = entero

    v = enteros.get("num_ventanas")
    if v is not None and v != ventanas:
        if v == hueco // STRIDE_25:
            problemas.append(
                f"num_ventanas = {v}: redondeaste hacia abajo. La ventana empieza en 0, {STRIDE_25}, "
                f"{2 * STRIDE_25}, ... mientras sea menor que {miles(n)} − {MAX_LENGTH_25} = {miles(hueco)}; "
                f"cuenta también la que empieza en 0: ⌈{miles(hueco)} / {STRIDE_25}⌉."
            )
        elif v in (n // STRIDE_25, math.ceil(n / STRIDE_25)):
            problemas.append(
                f"num_ventanas = {v}: no has restado max_length. La última ventana necesita sitio para sus "
                f"{MAX_LENGTH_25} tokens y su objetivo, así que solo puede empezar antes de {miles(n)} − "
                f"{MAX_LENGTH_25}."
            )
        elif v in (n // MAX_LENGTH_25, math.ceil(n / MAX_LENGTH_25)):
            problemas.append(
                f"num_ventanas = {v} sería la cuenta con ventanas sin solapar (stride = max_length). Aquí avanzan "
                f"{STRIDE_25} tokens, la mitad de su longitud."
            )
        else:
            problemas.append(f"num_ventanas = {v} no es el número de ventanas de GPTDatasetV1 con esta configuración.")

    descartando = enteros.get("num_lotes_descartando")
    sin_descartar = enteros.get("num_lotes_sin_descartar")
    if (descartando, sin_descartar) == (esperados["num_lotes_sin_descartar"], esperados["num_lotes_descartando"]):
        problemas.append(
            f"Los dos números de lotes están cambiados: drop_last=True descarta el último lote incompleto y da "
            f"{esperados['num_lotes_descartando']}; drop_last=False lo conserva y da {esperados['num_lotes_sin_descartar']}."
        )
    else:
        base = v if v is not None else ventanas
        if descartando is not None and descartando != esperados["num_lotes_descartando"]:
            if v is not None and v != ventanas and descartando == base // BATCH_SIZE_25:
                problemas.append(
                    "num_lotes_descartando está bien calculado a partir de tu num_ventanas, pero num_ventanas no es "
                    "correcto: corrígelo y vuelve a dividir."
                )
            else:
                problemas.append(
                    f"num_lotes_descartando = {descartando}: con drop_last=True solo cuentan los lotes completos de "
                    f"{BATCH_SIZE_25} ventanas (división entera, //)."
                )
        if sin_descartar is not None and sin_descartar != esperados["num_lotes_sin_descartar"]:
            if v is not None and v != ventanas and sin_descartar == math.ceil(base / BATCH_SIZE_25):
                problemas.append(
                    "num_lotes_sin_descartar está bien calculado a partir de tu num_ventanas, pero num_ventanas no "
                    "es correcto: corrígelo y vuelve a dividir."
                )
            else:
                problemas.append(
                    f"num_lotes_sin_descartar = {sin_descartar}: con drop_last=False el último lote, aunque tenga "
                    "menos ventanas, también cuenta (redondea hacia arriba)."
                )
    return informar(nombre, problemas)


def comprobar_ejercicio_2_6(inputs_2x6, tok_emb, pos_emb, input_embeddings_2x6) -> bool:
    """Ejercicio 2.6: el primer lote de un cargador (batch_size=2, max_length=6, stride=6, shuffle=False), capas de
    embedding de tokens y de posición de 12 números y su suma, de forma (2, 6, 12)."""
    nombre = "Ejercicio 2.6"
    respuestas = (inputs_2x6, tok_emb, pos_emb, input_embeddings_2x6)
    if all(r is None for r in respuestas):
        return informar(nombre, None)
    b, n, d = BATCH_SIZE_26, MAX_LENGTH_26, OUTPUT_DIM_26
    esperadas = torch.tensor(_ids_the_verdict()[: b * n]).reshape(b, n)
    vocab_size = get_tokenizer().n_vocab
    problemas = []

    entradas_bien = False
    if inputs_2x6 is None:
        problemas.append("inputs_2x6 sigue valiendo None: toma las entradas del primer lote del cargador.")
    elif not isinstance(inputs_2x6, torch.Tensor) or inputs_2x6.is_floating_point():
        problemas.append(f"inputs_2x6 debe ser un tensor de ids (enteros); es {describir(inputs_2x6)}.")
    elif tuple(inputs_2x6.shape) != (b, n):
        problemas.append(
            f"inputs_2x6 tiene forma {tuple(inputs_2x6.shape)}; un lote de {b} ventanas de {n} tokens tiene forma "
            f"({b}, {n})."
        )
    elif not torch.equal(inputs_2x6.cpu().long(), esperadas):
        problemas.append(
            f"inputs_2x6 no son los {b * n} primeros tokens del relato: crea el cargador con stride={n} y "
            "shuffle=False y toma solo las entradas (el primer elemento del lote)."
        )
    else:
        entradas_bien = True

    capas_bien = True
    for variable, capa, filas, que in (
        ("tok_emb", tok_emb, vocab_size, f"una por token del vocabulario ({miles(vocab_size)})"),
        ("pos_emb", pos_emb, n, f"una por posición ({n}, la longitud de contexto)"),
    ):
        if capa is None:
            problemas.append(f"{variable} sigue valiendo None: crea la capa con torch.nn.Embedding.")
            capas_bien = False
        elif not isinstance(capa, nn.Embedding):
            problemas.append(f"{variable} debe ser una capa torch.nn.Embedding; es {describir(capa)}.")
            capas_bien = False
        else:
            if capa.num_embeddings != filas:
                problemas.append(f"{variable} tiene {miles(capa.num_embeddings)} filas; necesita {que}.")
                capas_bien = False
            if capa.embedding_dim != d:
                problemas.append(f"{variable} da vectores de {capa.embedding_dim} números; el ejercicio pide {d}.")
                capas_bien = False

    if input_embeddings_2x6 is None:
        problemas.append("input_embeddings_2x6 sigue valiendo None: suma los embeddings de tokens y de posición.")
    elif not isinstance(input_embeddings_2x6, torch.Tensor):
        problemas.append(f"input_embeddings_2x6 debe ser un tensor de forma ({b}, {n}, {d}); es {describir(input_embeddings_2x6)}.")
    elif tuple(input_embeddings_2x6.shape) != (b, n, d):
        if tuple(input_embeddings_2x6.shape) == (b, n, 2 * d):
            problemas.append(
                f"input_embeddings_2x6 tiene forma ({b}, {n}, {2 * d}): has concatenado los dos embeddings. Se "
                "suman, y el resultado conserva los 12 números por token."
            )
        else:
            problemas.append(
                f"input_embeddings_2x6 tiene forma {tuple(input_embeddings_2x6.shape)}; se esperaba ({b}, {n}, {d})."
            )
    elif entradas_bien and capas_bien:
        with torch.no_grad():
            de_tokens = tok_emb.weight[esperadas]  # (b, n, d), sin llamar a la capa
            de_posicion = pos_emb.weight[:n]  # (n, d)
            recibidos = input_embeddings_2x6.detach().float().cpu()
            if torch.allclose(recibidos, de_tokens + de_posicion, atol=1e-6):
                pass
            elif torch.allclose(recibidos, de_tokens, atol=1e-6):
                problemas.append(
                    "input_embeddings_2x6 son solo los embeddings de tokens: falta sumar los de posición, "
                    f"pos_emb(torch.arange({n}))."
                )
            else:
                problemas.append(
                    f"input_embeddings_2x6 no es tok_emb(inputs_2x6) + pos_emb(torch.arange({n})) con tus capas."
                )
    return informar(nombre, problemas)


def _casos_desplazamiento() -> list[tuple[str, torch.Tensor, torch.Tensor, bool]]:
    """Pares (descripción, entradas, objetivos, respuesta correcta) con los que se prueba desplazado_uno."""
    ids = torch.tensor(_ids_the_verdict())
    inicios = torch.arange(8) * 4
    entradas = torch.stack([ids[i : i + 4] for i in inicios])  # el primer lote del apartado 4 del cuaderno, (8, 4)
    objetivos = torch.stack([ids[i + 1 : i + 5] for i in inicios])
    sueltos = [400, 12, 2000, 36]  # ventanas de 6 tokens sueltas, como en un lote barajado
    entradas_6 = torch.stack([ids[i : i + 6] for i in sueltos])
    objetivos_6 = torch.stack([ids[i + 1 : i + 7] for i in sueltos])
    ultima_mal = objetivos.clone()
    ultima_mal[-1] = entradas[-1]
    return [
        ("el primer lote del cargador del apartado 4 (8 × 4)", entradas, objetivos, True),
        ("un lote de ventanas sueltas de 6 tokens, como los barajados", entradas_6, objetivos_6, True),
        ("objetivos iguales a las entradas", entradas, entradas.clone(), False),
        ("entradas y objetivos intercambiados", objetivos, entradas, False),
        ("objetivos desplazados dos tokens", entradas, torch.stack([ids[i + 2 : i + 6] for i in inicios]), False),
        ("un lote en el que solo la última fila está mal", entradas, ultima_mal, False),
    ]


def comprobar_ejercicio_2_7(desplazado_uno) -> bool:
    """Ejercicio 2.7: `desplazado_uno(inputs, targets)` devuelve True si y solo si cada fila de `targets` es su fila
    de `inputs` desplazada un token (lo que se puede comprobar: los tokens que comparten)."""
    nombre = "Ejercicio 2.7"
    if desplazado_uno is None:
        return informar(nombre, None)
    if not callable(desplazado_uno):
        return informar(nombre, [
            f"desplazado_uno debe ser una función de dos argumentos, (inputs, targets); es {describir(desplazado_uno)}."
        ])
    problemas = []
    for descripcion, entradas, objetivos, correcta in _casos_desplazamiento():
        try:
            with torch.random.fork_rng(devices=[]):  # sin tocar el generador aleatorio del cuaderno
                respuesta = desplazado_uno(entradas.clone(), objetivos.clone())
        except Exception as error:  # la respuesta del alumno puede fallar de cualquier forma
            problemas.append(describir_error(f"Con {descripcion}, desplazado_uno(inputs, targets)", error))
            continue
        if isinstance(respuesta, torch.Tensor) and respuesta.numel() == 1 and respuesta.dtype == torch.bool:
            respuesta = bool(respuesta)
        if not isinstance(respuesta, bool):
            problemas.append(
                f"Con {descripcion}, desplazado_uno devuelve {describir(respuesta)}; debe devolver True o False "
                "(torch.equal ya devuelve un bool)."
            )
            break  # el mismo aviso valdría para todos los casos
        if respuesta != correcta:
            problemas.append(f"Con {descripcion}, desplazado_uno devuelve {respuesta}; debería devolver {correcta}.")
    return informar(nombre, problemas)
