"""Pruebas de las comprobaciones de los ejercicios de la sección 4 (seccion04_ImplementacionGPTGeneracionTexto/
ejercicios.py).

Cada comprobación debe aceptar la solución, responder «todavía sin resolver» a la respuesta de partida (None),
rechazar los errores típicos diciendo qué está mal, y no lanzar nunca un error por una respuesta equivocada. Todo
usa configuraciones diminutas o el dispositivo «meta» (formas sin memoria), para ir deprisa.
"""

import pytest
import torch
import torch.nn as nn

from seccion04_ImplementacionGPTGeneracionTexto import ejercicios
from seccion04_ImplementacionGPTGeneracionTexto.ejercicios import (
    IDS_INICIO,
    comprobar_ejercicio_4_1,
    comprobar_ejercicio_4_2,
    comprobar_ejercicio_4_3,
    comprobar_ejercicio_4_4,
    comprobar_ejercicio_4_5,
    comprobar_ejercicio_4_6,
    comprobar_ejercicio_4_7,
)
from seccion04_ImplementacionGPTGeneracionTexto.generateTextSimple import generate_text_simple
from seccion04_ImplementacionGPTGeneracionTexto.gptConfig124M import GPT_CONFIG_124M
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion04_ImplementacionGPTGeneracionTexto.layerNorm import LayerNorm
from tests.configuraciones import CFG_DIMINUTA


def _salida(capsys) -> str:
    return capsys.readouterr().out


def _en_meta(cfg):
    """Un GPTModel con las formas de `cfg` y sin memoria para sus números: instantáneo incluso para GPT-2 XL."""
    with torch.device("meta"):
        return GPTModel(cfg)


# --- Las fórmulas de las comprobaciones cuentan lo mismo que los modelos de verdad -------------------------------------

@pytest.mark.parametrize("cambios", [
    {},
    {"emb_dim": 1024, "n_layers": 24, "n_heads": 16},
    {"emb_dim": 1280, "n_layers": 36, "n_heads": 20},
    {"emb_dim": 1600, "n_layers": 48, "n_heads": 25},
    {"context_length": 256, "qkv_bias": True},
])
def test_la_formula_cuenta_como_gptmodel(cambios):
    cfg = {**GPT_CONFIG_124M, **cambios}
    assert ejercicios.parametros_gpt(cfg) == sum(p.numel() for p in _en_meta(cfg).parameters())


def test_las_cifras_de_gpt2():
    cuentas = {k: ejercicios.parametros_gpt({**GPT_CONFIG_124M, **v}) for k, v in ejercicios.TAMANOS_GPT2.items()}
    assert cuentas == {"medium": 406_212_608, "large": 838_220_800, "xl": 1_637_792_000}
    assert ejercicios.parametros_gpt(GPT_CONFIG_124M) == 163_009_536


# --- Ejercicio 4.1 ---------------------------------------------------------------------------------------------------

def test_4_1_acepta_la_solucion(capsys):
    with torch.device("meta"):
        block = GPTModel(GPT_CONFIG_124M).trf_blocks[0]
    params_ff = sum(p.numel() for p in block.ff.parameters())
    params_att = sum(p.numel() for p in block.att.parameters())
    assert (params_ff, params_att) == (4_722_432, 2_360_064)
    assert comprobar_ejercicio_4_1(params_ff, params_att) is True
    assert _salida(capsys) == "Ejercicio 4.1: ¡correcto!\n"
    assert comprobar_ejercicio_4_1(torch.tensor(params_ff), torch.tensor(params_att)) is True


def test_4_1_sin_resolver_y_a_medias(capsys):
    assert comprobar_ejercicio_4_1(None, None) is False
    assert _salida(capsys) == "Ejercicio 4.1: todavía sin resolver.\n"

    assert comprobar_ejercicio_4_1(4_722_432, None) is False
    assert "params_att sigue valiendo None" in _salida(capsys)


def test_4_1_cambiadas_de_sitio(capsys):
    assert comprobar_ejercicio_4_1(2_360_064, 4_722_432) is False
    assert "Has cambiado las dos cuentas de sitio" in _salida(capsys)


def test_4_1_errores_tipicos(capsys):
    assert comprobar_ejercicio_4_1(8 * 768 * 768, 4 * 768 * 768) is False
    salida = _salida(capsys)
    assert "params_ff = 4 718 592: son solo los pesos" in salida
    assert "params_att = 2 359 296: son solo los pesos: falta el sesgo de out_proj" in salida

    assert comprobar_ejercicio_4_1(7_085_568, 2_360_064 + 1024 * 1024) is False
    salida = _salida(capsys)
    assert "son los del bloque entero" in salida
    assert "incluye los 1 048 576 números de la máscara causal" in salida

    assert comprobar_ejercicio_4_1(768 * 3072 + 3072, 2_362_368) is False
    salida = _salida(capsys)
    assert "son los de la primera capa lineal" in salida
    assert "es la cuenta con sesgo en consultas, claves y valores" in salida

    assert comprobar_ejercicio_4_1(4_722_432.0, 123) is False
    salida = _salida(capsys)
    assert "params_ff debe ser un número entero" in salida
    assert "params_att = 123: no es el número de parámetros de block.att" in salida


# --- Ejercicio 4.2 ---------------------------------------------------------------------------------------------------

def _solucion_4_2():
    configs = {
        "medium": {**GPT_CONFIG_124M, "emb_dim": 1024, "n_layers": 24, "n_heads": 16},
        "large": {**GPT_CONFIG_124M, "emb_dim": 1280, "n_layers": 36, "n_heads": 20},
        "xl": {**GPT_CONFIG_124M, "emb_dim": 1600, "n_layers": 48, "n_heads": 25},
    }
    num_params = {k: sum(p.numel() for p in _en_meta(cfg).parameters()) for k, cfg in configs.items()}
    tamanos_mb = {k: n * 4 / 1e6 for k, n in num_params.items()}
    return configs, num_params, tamanos_mb


def test_4_2_acepta_la_solucion(capsys):
    configs, num_params, tamanos_mb = _solucion_4_2()
    assert round(tamanos_mb["xl"], 2) == 6551.17
    assert comprobar_ejercicio_4_2(configs, num_params, tamanos_mb) is True
    # Redondeado a 2 decimales también vale
    assert comprobar_ejercicio_4_2(configs, num_params, {k: round(v, 2) for k, v in tamanos_mb.items()}) is True
    assert _salida(capsys) == "Ejercicio 4.2: ¡correcto!\n" * 2


def test_4_2_sin_resolver_y_a_medias(capsys):
    assert comprobar_ejercicio_4_2(None, None, None) is False
    assert _salida(capsys) == "Ejercicio 4.2: todavía sin resolver.\n"

    configs, num_params, _ = _solucion_4_2()
    assert comprobar_ejercicio_4_2(configs, num_params, None) is False
    assert "tamanos_mb sigue valiendo None" in _salida(capsys)

    del num_params["xl"]
    assert comprobar_ejercicio_4_2(configs, num_params, None) is False
    assert "A num_params le faltan las claves 'xl'" in _salida(capsys)


def test_4_2_configuracion_equivocada(capsys):
    configs, num_params, tamanos_mb = _solucion_4_2()
    configs["large"] = {**configs["large"], "n_layers": 20, "n_heads": 36}  # capas y cabezas cambiadas de sitio
    configs["xl"] = {"emb_dim": 1600, "n_layers": 48, "n_heads": 25}
    assert comprobar_ejercicio_4_2(configs, num_params, tamanos_mb) is False
    salida = _salida(capsys)
    assert 'configs["large"] tiene n_heads=36 (debería ser 20), n_layers=20 (debería ser 36)' in salida
    assert 'A configs["xl"] le faltan las claves vocab_size, context_length, drop_rate, qkv_bias' in salida


def test_4_2_pesos_compartidos_y_mib(capsys):
    """Los dos errores típicos: contar con pesos compartidos (el libro también lo imprime) y dividir entre 1024²."""
    configs, num_params, tamanos_mb = _solucion_4_2()
    atados = {k: n - 50257 * configs[k]["emb_dim"] for k, n in num_params.items()}
    en_mib = {k: n * 4 / 1024**2 for k, n in num_params.items()}
    assert comprobar_ejercicio_4_2(configs, atados, en_mib) is False
    salida = _salida(capsys)
    assert 'num_params["medium"] = 354 749 440 descuenta la cabeza de salida' in salida
    assert 'tamanos_mb["medium"] = 1549.58: está en MiB' in salida


def test_4_2_otros_tamanos_equivocados(capsys):
    configs, num_params, _ = _solucion_4_2()
    tamanos = {"medium": num_params["medium"] * 4, "large": num_params["large"] * 2 / 1e6,
               "xl": num_params["xl"] * 4 / 1e9}
    num_params["large"] = 163_009_536
    assert comprobar_ejercicio_4_2(configs, num_params, tamanos) is False
    salida = _salida(capsys)
    assert 'num_params["large"] = 163 009 536 son los parámetros de GPT-2 (124M)' in salida
    assert 'tamanos_mb["medium"] = 1624850432.00: está en bytes' in salida
    assert "cuenta 2 bytes por parámetro (bfloat16)" in salida
    assert 'tamanos_mb["xl"] = 6.55: está en GB' in salida


# --- Ejercicio 4.3 ---------------------------------------------------------------------------------------------------

GPT_CONFIG_DROPOUTS = {k: v for k, v in GPT_CONFIG_124M.items() if k != "drop_rate"} | {
    "drop_rate_emb": 0.1, "drop_rate_shortcut": 0.1, "drop_rate_attn": 0.1,
}


class GPTModelDropouts(GPTModel):
    """La solución: el GPTModel de siempre, con la tasa de cada nn.Dropout cambiada después."""

    def __init__(self, cfg):
        super().__init__({**cfg, "drop_rate": cfg["drop_rate_emb"]})
        for block in self.trf_blocks:
            block.att.dropout.p = cfg["drop_rate_attn"]
            block.drop_shortcut.p = cfg["drop_rate_shortcut"]


def test_4_3_acepta_la_solucion(capsys):
    assert comprobar_ejercicio_4_3(GPT_CONFIG_DROPOUTS, GPTModelDropouts) is True
    assert _salida(capsys) == "Ejercicio 4.3: ¡correcto!\n"


def test_4_3_sin_resolver_y_a_medias(capsys):
    assert comprobar_ejercicio_4_3(None, None) is False
    assert _salida(capsys) == "Ejercicio 4.3: todavía sin resolver.\n"

    assert comprobar_ejercicio_4_3(GPT_CONFIG_DROPOUTS, None) is False
    assert "GPTModelDropouts sigue valiendo None" in _salida(capsys)


def test_4_3_la_misma_tasa_en_todas_partes(capsys):
    """Pasar drop_rate_emb como drop_rate a GPTModel sin cambiar nada más: los tres sitios con 0.1."""

    class SoloEmbeddings(GPTModel):
        def __init__(self, cfg):
            super().__init__({**cfg, "drop_rate": cfg["drop_rate_emb"]})

    assert comprobar_ejercicio_4_3(GPT_CONFIG_DROPOUTS, SoloEmbeddings) is False
    salida = _salida(capsys)
    assert ('Los dropout de los atajos de cada bloque (drop_shortcut) deberían usar cfg["drop_rate_shortcut"] = 0.2, '
            "pero trf_blocks.0.drop_shortcut tiene p=0.1, la tasa de drop_rate_emb (y 1 más).") in salida
    assert "trf_blocks.0.att.dropout tiene p=0.1, la tasa de drop_rate_emb" in salida
    assert "tras los embeddings" not in salida


def test_4_3_atencion_y_atajos_cambiados(capsys):
    class Cambiados(GPTModel):
        def __init__(self, cfg):
            super().__init__({**cfg, "drop_rate": cfg["drop_rate_emb"]})
            for block in self.trf_blocks:
                block.att.dropout.p = cfg["drop_rate_shortcut"]
                block.drop_shortcut.p = cfg["drop_rate_attn"]

    assert comprobar_ejercicio_4_3(GPT_CONFIG_DROPOUTS, Cambiados) is False
    salida = _salida(capsys)
    assert "trf_blocks.0.drop_shortcut tiene p=0.3, la tasa de drop_rate_attn" in salida
    assert "trf_blocks.0.att.dropout tiene p=0.2, la tasa de drop_rate_shortcut" in salida


def test_4_3_sigue_leyendo_drop_rate(capsys):
    """GPTModel tal cual exige drop_rate; una clase que todavía lo lee da un KeyError, y se dice cuál."""

    class LeeDropRate(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.drop_emb = nn.Dropout(cfg["drop_rate"])

    assert comprobar_ejercicio_4_3(GPT_CONFIG_DROPOUTS, LeeDropRate) is False
    assert "da un KeyError con la clave 'drop_rate'" in _salida(capsys)

    assert comprobar_ejercicio_4_3(GPT_CONFIG_DROPOUTS, GPTModel) is False
    salida = _salida(capsys)
    assert "A la configuración le faltan estas claves: drop_rate" in salida
    assert "si heredas de él, pásale una copia que la tenga" in salida


def test_4_3_configuracion_equivocada(capsys):
    con_drop_rate = {**GPT_CONFIG_DROPOUTS, "drop_rate": 0.1, "emb_dim": 512}
    sin_atencion = {k: v for k, v in GPT_CONFIG_DROPOUTS.items() if k != "drop_rate_attn"}
    assert comprobar_ejercicio_4_3(con_drop_rate, GPTModelDropouts) is False
    salida = _salida(capsys)
    assert "todavía tiene la clave drop_rate: quítala" in salida
    assert "emb_dim=512 (debería ser 768)" in salida

    assert comprobar_ejercicio_4_3(sin_atencion | {"drop_rate_emb": 1.5}, GPTModelDropouts) is False
    salida = _salida(capsys)
    assert "A GPT_CONFIG_DROPOUTS le faltan las claves drop_rate_attn" in salida
    assert 'GPT_CONFIG_DROPOUTS["drop_rate_emb"] vale 1.5' in salida


def test_4_3_tasas_que_no_son_las_del_enunciado(capsys):
    mitad = {**GPT_CONFIG_DROPOUTS, "drop_rate_emb": 0.5, "drop_rate_shortcut": 0.5, "drop_rate_attn": 0.5}
    assert comprobar_ejercicio_4_3(mitad, GPTModelDropouts) is False
    salida = _salida(capsys)
    assert 'GPT_CONFIG_DROPOUTS["drop_rate_attn"] vale 0.5; el enunciado pide 0.1' in salida


# --- Ejercicio 4.4 ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def modelo_diminuto():
    torch.manual_seed(123)
    model = GPTModel(CFG_DIMINUTA)
    model.eval()
    return model


@pytest.fixture(scope="module")
def tokenizer():
    from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer

    return get_tokenizer()


def _generar(model, tokens=8):
    return generate_text_simple(model, torch.tensor([IDS_INICIO]), max_new_tokens=tokens, context_size=16)


def test_4_4_acepta_la_solucion(capsys, modelo_diminuto, tokenizer):
    assert tokenizer.encode("I really like") == IDS_INICIO
    salida = _generar(modelo_diminuto)
    texto = tokenizer.decode(salida.squeeze(0).tolist())
    assert comprobar_ejercicio_4_4(modelo_diminuto, salida, texto) is True
    assert _salida(capsys) == "Ejercicio 4.4: ¡correcto!\n"
    assert modelo_diminuto.training is False


def test_4_4_sin_resolver(capsys, modelo_diminuto):
    assert comprobar_ejercicio_4_4(modelo_diminuto, None, None) is False
    assert _salida(capsys) == "Ejercicio 4.4: todavía sin resolver.\n"


def test_4_4_longitud_y_forma(capsys, modelo_diminuto, tokenizer):
    salida = _generar(modelo_diminuto, tokens=11)  # max_new_tokens con la longitud total
    assert comprobar_ejercicio_4_4(modelo_diminuto, salida, tokenizer.decode(salida[0].tolist())) is False
    assert "salida tiene 14 tokens: los 3 de «I really like» y 11 nuevos" in _salida(capsys)

    salida = _generar(modelo_diminuto)
    assert comprobar_ejercicio_4_4(modelo_diminuto, salida[0], "") is False
    assert "salida tiene forma (11,): le falta la dimensión del lote" in _salida(capsys)

    otro = generate_text_simple(modelo_diminuto, torch.tensor([[6109, 3626, 6100]]), 8, 16)
    assert comprobar_ejercicio_4_4(modelo_diminuto, otro, "") is False
    assert "salida empieza por [6109, 3626, 6100]; los ids de «I really like» son [40, 1107, 588]" in _salida(capsys)


def test_4_4_un_token_que_no_es_el_mas_probable(capsys, modelo_diminuto, tokenizer):
    salida = _generar(modelo_diminuto).clone()
    salida[0, 5] = (salida[0, 5] + 1) % 50257
    assert comprobar_ejercicio_4_4(modelo_diminuto, salida, tokenizer.decode(salida[0].tolist())) is False
    salida_texto = _salida(capsys)
    assert "El token nuevo número 3 es" in salida_texto and "pero el más probable según model era" in salida_texto
    assert "¿has generado con otra función" in salida_texto


def test_4_4_en_modo_entrenamiento(capsys, tokenizer):
    """Con el dropout encendido, la generación no es la voraz; la comprobación lo dice y deja el modo como estaba."""
    torch.manual_seed(123)
    model = GPTModel({**CFG_DIMINUTA, "drop_rate": 0.5})  # modo entrenamiento: el dropout sortea
    salida = _generar(model)
    assert comprobar_ejercicio_4_4(model, salida, tokenizer.decode(salida[0].tolist())) is False
    assert "El modelo está en modo entrenamiento" in _salida(capsys)
    assert model.training is True


def test_4_4_el_texto(capsys, modelo_diminuto, tokenizer):
    salida = _generar(modelo_diminuto)
    assert comprobar_ejercicio_4_4(modelo_diminuto, salida, tokenizer.decode(salida[0, 3:].tolist())) is False
    assert "texto solo tiene los tokens nuevos" in _salida(capsys)

    assert comprobar_ejercicio_4_4(modelo_diminuto, salida, None) is False
    assert "texto sigue valiendo None" in _salida(capsys)

    assert comprobar_ejercicio_4_4(modelo_diminuto, salida, "I really like chocolate") is False
    assert "texto es 'I really like chocolate', pero salida decodificada es" in _salida(capsys)


# --- Ejercicio 4.5 ---------------------------------------------------------------------------------------------------

def test_4_5_acepta_la_solucion(capsys):
    model = _en_meta({**GPT_CONFIG_124M, "context_length": 256})
    n = sum(p.numel() for p in model.parameters())
    assert n == 162_419_712
    bytes_bf16 = torch.tensor([], dtype=torch.bfloat16).element_size()
    assert comprobar_ejercicio_4_5(model, n * 4 / 1e6, n * bytes_bf16 / 1e6) is True
    assert comprobar_ejercicio_4_5(model, 649.68, 324.84) is True
    assert _salida(capsys) == "Ejercicio 4.5: ¡correcto!\n" * 2


def test_4_5_sin_resolver(capsys):
    assert comprobar_ejercicio_4_5(_en_meta(CFG_DIMINUTA), None, None) is False
    assert _salida(capsys) == "Ejercicio 4.5: todavía sin resolver.\n"


def test_4_5_errores_tipicos(capsys):
    model = _en_meta({**GPT_CONFIG_124M, "context_length": 256})
    n = sum(p.numel() for p in model.parameters())
    assert comprobar_ejercicio_4_5(model, n * 4 / 1024**2, n * 4 / 1e6) is False
    salida = _salida(capsys)
    assert "tamano_fp32_mb = 619.58: está en MiB" in salida
    assert "tamano_bf16_mb = 649.68: cuenta 4 bytes por número; un bfloat16 ocupa 2" in salida

    assert comprobar_ejercicio_4_5(model, 652.04, n * 16 / 1e6) is False
    salida = _salida(capsys)
    assert "tamano_fp32_mb = 652.04: es el tamaño del modelo de context_length=1024 del apartado 9" in salida
    assert "tamano_bf16_mb = 2598.72: cuenta bits" in salida

    en_state_dict = sum(t.numel() for t in model.state_dict().values())
    assert comprobar_ejercicio_4_5(model, en_state_dict * 4 / 1e6, "324.84") is False
    salida = _salida(capsys)
    assert "incluye los búferes (las máscaras causales de cada bloque)" in salida
    assert "tamano_bf16_mb debe ser un número" in salida


# --- Ejercicio 4.6 ---------------------------------------------------------------------------------------------------

def _x():
    torch.manual_seed(123)
    return 3 * torch.randn(3, 8) + 5


def test_4_6_acepta_la_solucion(capsys):
    x = _x()
    salida = LayerNorm(8)(x)
    medias = salida.mean(dim=-1)
    varianzas = salida.var(dim=-1, unbiased=False)
    assert comprobar_ejercicio_4_6(x, salida, medias, varianzas) is True
    # nn.LayerNorm de PyTorch, y medias con keepdim=True, también valen
    salida = nn.LayerNorm(8)(x)
    assert comprobar_ejercicio_4_6(x, salida, salida.mean(dim=-1, keepdim=True), salida.var(-1, unbiased=False)) is True
    assert _salida(capsys) == "Ejercicio 4.6: ¡correcto!\n" * 2


def test_4_6_sin_resolver(capsys):
    assert comprobar_ejercicio_4_6(_x(), None, None, None) is False
    assert _salida(capsys) == "Ejercicio 4.6: todavía sin resolver.\n"


def test_4_6_varianza_insesgada(capsys):
    x = _x()
    salida = LayerNorm(8)(x)
    assert comprobar_ejercicio_4_6(x, salida, salida.mean(dim=-1), salida.var(dim=-1)) is False
    assert "es la varianza insesgada, que divide entre n − 1 = 7" in _salida(capsys)


def test_4_6_por_columnas_y_sin_normalizar(capsys):
    x = _x()
    por_columnas = (x - x.mean(dim=0)) / torch.sqrt(x.var(dim=0, unbiased=False) + 1e-5)
    assert comprobar_ejercicio_4_6(x, por_columnas, por_columnas.mean(dim=0), por_columnas.var(dim=0)) is False
    salida = _salida(capsys)
    assert "salida está normalizada por columnas (dim=0)" in salida
    assert "medias tiene 8 números, uno por columna" in salida

    assert comprobar_ejercicio_4_6(x, x, x.mean(dim=-1), x.var(dim=-1, unbiased=False)) is False
    salida = _salida(capsys)
    assert "salida es x sin cambios" in salida
    assert "medias vale" in salida


# --- Ejercicio 4.7 ---------------------------------------------------------------------------------------------------

def _atado():
    model = _en_meta(GPT_CONFIG_124M)
    model.out_head.weight = model.tok_emb.weight
    return model


def test_4_7_acepta_la_solucion(capsys):
    model_atado = _atado()
    num_params_atado = sum(p.numel() for p in model_atado.parameters())
    assert num_params_atado == 124_412_160
    assert comprobar_ejercicio_4_7(model_atado, num_params_atado) is True
    assert _salida(capsys) == "Ejercicio 4.7: ¡correcto!\n"


def test_4_7_sin_resolver(capsys):
    assert comprobar_ejercicio_4_7(None, None) is False
    assert _salida(capsys) == "Ejercicio 4.7: todavía sin resolver.\n"


def test_4_7_copiar_en_lugar_de_compartir(capsys):
    """El error típico: copiar los números, que deja dos parámetros que al entrenar se separan."""
    torch.manual_seed(123)
    model = GPTModel(CFG_DIMINUTA | {"vocab_size": 100})
    with torch.no_grad():
        model.out_head.weight.copy_(model.tok_emb.weight)
    assert comprobar_ejercicio_4_7(model, sum(p.numel() for p in model.parameters())) is False
    salida = _salida(capsys)
    assert "debe ser un GPTModel(GPT_CONFIG_124M)" in salida and "emb_dim=32" in salida
    assert "son dos parámetros distintos (aunque tengan los mismos números)" in salida
    assert "cuenta dos veces la matriz compartida" in salida


def test_4_7_cuentas_equivocadas(capsys):
    model_atado = _atado()
    assert comprobar_ejercicio_4_7(model_atado, 124_412_160 - 50257 * 768) is False
    assert "descuenta la matriz compartida" in _salida(capsys)

    en_state_dict = sum(t.numel() for t in model_atado.state_dict().values())
    assert comprobar_ejercicio_4_7(model_atado, en_state_dict) is False
    assert "es lo que suma el state_dict" in _salida(capsys)

    assert comprobar_ejercicio_4_7(model_atado, 124_000_000) is False
    assert "model_atado tiene 124 412 160 parámetros" in _salida(capsys)

    assert comprobar_ejercicio_4_7(_en_meta({**GPT_CONFIG_124M, "context_length": 256}), None) is False
    salida = _salida(capsys)
    assert "model_atado tiene context_length=256" in salida
    assert "num_params_atado sigue valiendo None" in salida


# --- Ninguna comprobación toca el generador aleatorio ni lanza errores ----------------------------------------------

@pytest.mark.parametrize("comprobar,argumentos", [
    (comprobar_ejercicio_4_1, ("basura", [1])),
    (comprobar_ejercicio_4_2, ("basura", 42, [1, 2])),
    (comprobar_ejercicio_4_2, ({"medium": 1, "large": 2, "xl": 3},) * 3),
    (comprobar_ejercicio_4_3, ("basura", "basura")),
    (comprobar_ejercicio_4_3, ({}, lambda cfg: 42)),
    (comprobar_ejercicio_4_4, (nn.Linear(2, 2), torch.tensor([IDS_INICIO + [1] * 8]), "basura")),
    (comprobar_ejercicio_4_4, ("basura", torch.ones(2), "basura")),
    (comprobar_ejercicio_4_5, ("basura", 1.0, 2.0)),
    (comprobar_ejercicio_4_5, (nn.Linear(2, 2), [1.0], float("nan"))),
    (comprobar_ejercicio_4_6, ("basura", 1, 2, 3)),
    (comprobar_ejercicio_4_6, (torch.ones(3, 8), torch.ones(3, 8), [0.0], torch.ones(2))),
    (comprobar_ejercicio_4_7, ("basura", "basura")),
])
def test_respuestas_sin_sentido_no_lanzan_errores(capsys, comprobar, argumentos):
    assert comprobar(*argumentos) is False
    assert "todavía no está bien" in _salida(capsys)


def test_las_comprobaciones_no_gastan_numeros_aleatorios(capsys, tokenizer):
    """Comprobar una respuesta no cambia los números que sortean las celdas siguientes del cuaderno, aunque el
    modelo del alumno esté en modo entrenamiento o la comprobación tenga que crear uno."""
    torch.manual_seed(123)
    model = GPTModel({**CFG_DIMINUTA, "drop_rate": 0.5})
    with torch.no_grad():
        model.eval()
        salida = _generar(model)
        model.train()
    torch.manual_seed(123)
    estado = torch.get_rng_state()
    assert comprobar_ejercicio_4_3(GPT_CONFIG_DROPOUTS, GPTModelDropouts) is True
    comprobar_ejercicio_4_4(model, salida, tokenizer.decode(salida[0].tolist()))
    assert torch.equal(torch.get_rng_state(), estado)


def test_4_3_acepta_la_solucion_del_libro(capsys):
    """El libro escribe de nuevo las dos clases, leyendo cada tasa de su clave: también es correcto."""
    from seccion04_ImplementacionGPTGeneracionTexto.feedForward import FeedForward
    from seccion04_ImplementacionGPTGeneracionTexto.multiHeadAttention import MultiHeadAttention

    class BloqueDelLibro(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.att = MultiHeadAttention(cfg["emb_dim"], cfg["emb_dim"], cfg["context_length"],
                                          cfg["drop_rate_attn"], cfg["n_heads"], cfg["qkv_bias"])
            self.ff = FeedForward(cfg)
            self.norm1, self.norm2 = LayerNorm(cfg["emb_dim"]), LayerNorm(cfg["emb_dim"])
            self.drop_shortcut = nn.Dropout(cfg["drop_rate_shortcut"])

        def forward(self, x):
            x = x + self.drop_shortcut(self.att(self.norm1(x)))
            return x + self.drop_shortcut(self.ff(self.norm2(x)))

    class ModeloDelLibro(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.tok_emb = nn.Embedding(cfg["vocab_size"], cfg["emb_dim"])
            self.pos_emb = nn.Embedding(cfg["context_length"], cfg["emb_dim"])
            self.drop_emb = nn.Dropout(cfg["drop_rate_emb"])
            self.trf_blocks = nn.Sequential(*[BloqueDelLibro(cfg) for _ in range(cfg["n_layers"])])
            self.final_norm = LayerNorm(cfg["emb_dim"])
            self.out_head = nn.Linear(cfg["emb_dim"], cfg["vocab_size"], bias=False)

        def forward(self, in_idx):
            x = self.tok_emb(in_idx) + self.pos_emb(torch.arange(in_idx.shape[1]))
            return self.out_head(self.final_norm(self.trf_blocks(self.drop_emb(x))))

    assert comprobar_ejercicio_4_3(GPT_CONFIG_DROPOUTS, ModeloDelLibro) is True
    assert _salida(capsys) == "Ejercicio 4.3: ¡correcto!\n"
