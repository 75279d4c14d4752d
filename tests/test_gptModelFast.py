"""Pruebas de seccion05/gptModelFast.py: mismo state_dict y mismos resultados que GPTModel, bf16, dropout y caché KV
dentro del modelo, y los errores en español."""

import math

import pytest
import torch

from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion04_ImplementacionGPTGeneracionTexto.multiHeadAttention import MultiHeadAttention
from seccion05.bf16Support import bf16_accelerated, bf16_runs
from seccion05.fastAdamW import fast_adamw
from seccion05.fastDropout import FastDropout
from seccion05.gptModelFast import GPTModelFast, MultiHeadAttentionFast
from seccion05.kvCache import KVCache
from tests.caminoRapido import CFG, TOLERANCIA_LOGITS, entrenar, modelos_diminutos, necesita_bf16


@pytest.fixture
def modelos():
    return modelos_diminutos()


def test_state_dict_mismas_claves_y_formas():
    torch.manual_seed(123)
    gpt, rapido = GPTModel(CFG), GPTModelFast(CFG)
    sd_gpt, sd_rapido = gpt.state_dict(), rapido.state_dict()
    assert list(sd_gpt) == list(sd_rapido)
    assert all(sd_gpt[k].shape == sd_rapido[k].shape for k in sd_gpt)



def test_state_dict_ida_y_vuelta():
    torch.manual_seed(123)
    gpt = GPTModel(CFG)
    rapido = GPTModelFast(CFG)
    rapido.load_state_dict(gpt.state_dict())  # estricto: mismas claves
    otro = GPTModel(CFG)
    otro.load_state_dict(rapido.state_dict())
    for k, v in gpt.state_dict().items():
        assert torch.equal(v, otro.state_dict()[k]), k



def test_from_model_copia_config_pesos_y_modo(modelos):
    gpt, rapido = modelos
    assert rapido.cfg == CFG
    assert not rapido.training
    assert GPTModelFast.from_model(gpt.train()).training
    assert all(torch.equal(a, b) for a, b in zip(gpt.state_dict().values(), rapido.state_dict().values(), strict=True))



def test_from_model_conserva_el_dtype():
    torch.manual_seed(123)
    gpt = GPTModel(CFG).to(torch.bfloat16)
    rapido = GPTModelFast.from_model(gpt)
    assert rapido.out_head.weight.dtype == torch.bfloat16
    assert torch.equal(rapido.out_head.weight, gpt.out_head.weight)



def test_from_model_con_qkv_bias():
    cfg = {**CFG, "qkv_bias": True, "drop_rate": 0.0}
    torch.manual_seed(123)
    gpt = GPTModel(cfg).eval()
    rapido = GPTModelFast.from_model(gpt)
    assert rapido.cfg == cfg
    x = torch.randint(0, cfg["vocab_size"], (2, 16))
    torch.testing.assert_close(rapido(x), gpt(x), **TOLERANCIA_LOGITS)



def test_logits_iguales_en_fp32(modelos):
    gpt, rapido = modelos
    torch.manual_seed(0)
    x = torch.randint(0, CFG["vocab_size"], (3, 16))
    with torch.no_grad():
        torch.testing.assert_close(rapido(x), gpt(x), **TOLERANCIA_LOGITS)



def test_gradientes_iguales_en_fp32(modelos):
    gpt, rapido = modelos
    torch.manual_seed(0)
    x = torch.randint(0, CFG["vocab_size"], (2, 16))
    y = torch.randint(0, CFG["vocab_size"], (2, 16))
    for m in (gpt, rapido):
        torch.nn.functional.cross_entropy(m(x).flatten(0, 1), y.flatten()).backward()
    for (nombre, p), q in zip(gpt.named_parameters(), rapido.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-6, msg=nombre)



@necesita_bf16
def test_logits_en_bf16_cercanos():
    """Con autocast bf16 los logits se parecen a los de fp32 (bf16 tiene unas 3 cifras significativas)."""
    torch.manual_seed(123)
    gpt = GPTModel(CFG).eval()
    rapido = GPTModelFast.from_model(gpt, precision="bf16")
    x = torch.randint(0, CFG["vocab_size"], (2, 16))
    with torch.no_grad():
        logits = rapido(x)
        esperado = gpt(x)
    assert logits.dtype == torch.float32
    assert not torch.allclose(logits, esperado, **TOLERANCIA_LOGITS)  # el autocast ha actuado de verdad
    assert (logits - esperado).abs().max() < 0.05 * esperado.abs().max()



@necesita_bf16
def test_perdida_bf16_y_adamw_fusionado_dentro_del_2_por_ciento():
    cfg = {**CFG, "drop_rate": 0.0}  # sin dropout, para comparar la misma cuenta
    torch.manual_seed(123)
    gpt = GPTModel(cfg)
    rapido = GPTModelFast.from_model(gpt, precision="bf16")
    perdida_fp32 = entrenar(gpt, torch.optim.AdamW(gpt.parameters(), lr=0.004, weight_decay=0.1), pasos=10)
    perdida_bf16 = entrenar(rapido, fast_adamw(rapido.parameters(), lr=0.004, weight_decay=0.1), pasos=10)
    assert perdida_fp32 < 9.0  # ha aprendido algo (al principio, ~11.06)
    assert math.isclose(perdida_bf16, perdida_fp32, rel_tol=0.02)



def test_dtype_autocast_segun_precision():
    assert GPTModelFast(CFG).dtype_autocast(torch.device("cpu")) is None
    auto = GPTModelFast(CFG, precision="auto")
    assert auto.dtype_autocast(torch.device("cpu")) is (torch.bfloat16 if bf16_accelerated("cpu") else None)
    assert auto.dtype_autocast(torch.device("meta")) is None  # dispositivos sin bf16 rápido: fp32
    assert bf16_accelerated("meta") is False
    assert not bf16_accelerated("cpu") or bf16_runs("cpu")  # acelerado implica que se puede ejecutar



@necesita_bf16
def test_dtype_autocast_bf16_en_cpu():
    assert GPTModelFast(CFG, precision="bf16").dtype_autocast(torch.device("cpu")) is torch.bfloat16



def test_prellenado_por_trozos_da_los_mismos_logits(modelos):
    """Pasar el texto en trozos (varios tokens tras los guardados: máscara parcial) = pasarlo entero."""
    _, rapido = modelos
    torch.manual_seed(0)
    x = torch.randint(0, CFG["vocab_size"], (2, 16))
    with torch.no_grad():
        completo = rapido(x)
        cache = KVCache(CFG["n_layers"], max_len=16)
        trozos = [rapido(x[:, :5], cache=cache), rapido(x[:, 5:6], cache=cache), rapido(x[:, 6:], cache=cache)]
    assert cache.seq_len == 16
    torch.testing.assert_close(torch.cat(trozos, dim=1), completo, **TOLERANCIA_LOGITS)



def test_precision_no_valida():
    with pytest.raises(ValueError, match="precision debe ser 'fp32', 'bf16' o 'auto'; has pasado 'fp16'"):
        GPTModelFast(CFG, precision="fp16")



@pytest.mark.parametrize(
    ("cambio", "mensaje"),
    [
        ({"n_layers": -1}, r'cfg\["n_layers"\] debe ser un entero mayor o igual que 1'),
        ({"drop_rate": 1.5}, r'cfg\["drop_rate"\] debe ser un número'),
        ({"qkv_bias": "False"}, r'cfg\["qkv_bias"\] debe ser True o False'),
    ],
)
def test_configuracion_no_valida_igual_que_gptmodel(cambio, mensaje):
    with pytest.raises(ValueError, match=mensaje):
        GPTModelFast({**CFG, **cambio})
    with pytest.raises(ValueError, match=mensaje):
        GPTModel({**CFG, **cambio})



def test_configuracion_sin_claves():
    cfg = {k: v for k, v in CFG.items() if k != "n_heads"}
    with pytest.raises(ValueError, match="A la configuración le faltan estas claves: n_heads"):
        GPTModelFast(cfg)



def test_cache_llena_da_error_en_forward(modelos):
    _, rapido = modelos
    cache = KVCache(CFG["n_layers"], max_len=6)
    with torch.no_grad():
        rapido(torch.zeros(1, 5, dtype=torch.long), cache=cache)
        with pytest.raises(ValueError, match=r"La caché KV ya guarda 5 posiciones y le llegan 2 más.*cache.reset\(\)"):
            rapido(torch.zeros(1, 2, dtype=torch.long), cache=cache)



def test_entrada_fuera_del_vocabulario_igual_que_gptmodel(modelos):
    _, rapido = modelos
    with pytest.raises(ValueError, match="Hay un id de token fuera del vocabulario: 50257"):
        rapido(torch.tensor([[50257]]))



def test_dropout_no_valido():
    with pytest.raises(ValueError, match="dropout debe ser 'fast' o 'torch'"):
        GPTModelFast(CFG, dropout="nativo")



def test_dropout_torch_da_las_mismas_mascaras_que_gptmodel():
    # En modo entrenamiento (con dropout), dropout="torch" sortea lo mismo que GPTModel con la misma semilla
    torch.manual_seed(123)
    gpt = GPTModel(CFG).train()
    rapido = GPTModelFast.from_model(gpt, dropout="torch")
    x = torch.randint(0, CFG["vocab_size"], (2, 16))
    torch.manual_seed(7)
    esperado = gpt(x)
    torch.manual_seed(7)
    torch.testing.assert_close(rapido(x), esperado, **TOLERANCIA_LOGITS)



def test_atencion_con_fast_dropout_igual_que_la_didactica_con_las_mismas_mascaras():
    # La atención didáctica con FastDropout en lugar de nn.Dropout sortea las mismas máscaras en el mismo orden
    torch.manual_seed(123)
    att = MultiHeadAttention(d_in=32, d_out=32, context_length=16, dropout=0.2, num_heads=4).train()
    att.dropout = FastDropout(0.2)
    att_rapida = MultiHeadAttentionFast(d_in=32, d_out=32, context_length=16, dropout=0.2, num_heads=4).train()
    att_rapida.load_state_dict(att.state_dict())
    x = torch.randn(2, 10, 32)
    torch.manual_seed(7)
    esperado = att(x)
    torch.manual_seed(7)
    torch.testing.assert_close(att_rapida(x), esperado, rtol=1e-5, atol=1e-6)
    torch.manual_seed(7)
    assert not torch.allclose(att_rapida.eval()(x), esperado)  # el dropout actuaba de verdad



@necesita_bf16
def test_perdida_con_fast_dropout_y_bf16_dentro_del_2_por_ciento():
    # Con dropout (otras máscaras) y bf16: la pérdida media de los últimos pasos sigue a la de fp32
    torch.manual_seed(123)
    gpt = GPTModel(CFG)
    rapido = GPTModelFast.from_model(gpt, precision="bf16")
    assert rapido.dropout == "fast"
    perdida_fp32 = entrenar(gpt, torch.optim.AdamW(gpt.parameters(), lr=0.004, weight_decay=0.1), pasos=10)
    perdida_rapido = entrenar(rapido, fast_adamw(rapido.parameters(), lr=0.004, weight_decay=0.1), pasos=10)
    assert perdida_fp32 < 9.0
    assert math.isclose(perdida_rapido, perdida_fp32, rel_tol=0.02)

