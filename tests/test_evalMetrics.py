"""Pruebas de seccion05/evalMetrics.py: cada medida frente a un cálculo independiente, y cada error de entrada."""

import math
from pathlib import Path

import matplotlib
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05.calcLoss import calc_loss_loader
from seccion05.evalMetrics import (
    CalibrationBins,
    CopiedSpan,
    PerplexityResult,
    bits_per_byte,
    bits_per_char,
    calibration_bins,
    collect_confidences,
    copied_ngram_fraction,
    distinct_n,
    expected_calibration_error,
    longest_copied_span,
    loss_by_position,
    plot_reliability_diagram,
    repetition_rate,
    text_nll,
    top_k_accuracy,
    uniform_perplexity,
    unigram_perplexity,
)
from tests.configuraciones import CFG_DIMINUTA

matplotlib.use("Agg")

RAIZ = Path(__file__).resolve().parent.parent
CPU = torch.device("cpu")
V = CFG_DIMINUTA["vocab_size"]  # 50257
CONTEXTO = CFG_DIMINUTA["context_length"]  # 16
# Un texto de unos 40 tokens con caracteres de 2 bytes (á, ñ), para que bytes y caracteres no coincidan
TEXTO = ("Every effort moves you forward, said the gardener. La mañana está húmeda y el compost huele a tierra; "
         "riega las lechugas antes de que salga el sol.")


@pytest.fixture(scope="module")
def tokenizer():
    return get_tokenizer()


@pytest.fixture(scope="module")
def modelo():
    """Un GPT diminuto sin entrenar, CON dropout (0.1): las medidas deben apagarlo ellas mismas."""
    torch.manual_seed(123)
    return GPTModel(CFG_DIMINUTA).eval()


def _cargador(num_lotes, batch_size=2, seq=CONTEXTO, semilla=0):
    g = torch.Generator().manual_seed(semilla)
    x = torch.randint(0, V, (num_lotes * batch_size, seq), generator=g)
    y = torch.randint(0, V, (num_lotes * batch_size, seq), generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


def _cargador_con_aciertos(modelo, num_lotes=3, batch_size=2, semilla=1):
    """Objetivos elegidos para que el modelo acierte a veces: según la posición, el objetivo es el token que el modelo
    pone en el puesto 1, 2, 5, 6, 8 o 9 (de más a menos probable), o uno al azar (dos posiciones de cada ocho)."""
    g = torch.Generator().manual_seed(semilla)
    x = torch.randint(0, V, (num_lotes * batch_size, CONTEXTO), generator=g)
    with torch.no_grad():
        orden = torch.argsort(modelo.eval()(x), dim=-1, descending=True)  # (filas, CONTEXTO, V)
    y = torch.randint(0, V, x.shape, generator=g)
    puesto = torch.tensor([0, 1, 4, 5, 7, 8, -1, -1] * (CONTEXTO // 8))  # índice en el orden del modelo; -1: al azar
    for j in range(CONTEXTO):
        if puesto[j] >= 0:
            y[:, j] = orden[:, j, puesto[j]]
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


# --- 1. Líneas base ------------------------------------------------------------------------------------------------

def test_uniform_perplexity_es_la_de_un_modelo_de_logits_constantes():
    torch.manual_seed(0)
    constante = GPTModel({**CFG_DIMINUTA, "drop_rate": 0.0}).eval()
    with torch.no_grad():
        constante.out_head.weight.zero_()  # logits 0 para todo: probabilidad 1 / V para cada token
        perdida = calc_loss_loader(_cargador(2), constante, CPU)
    resultado = uniform_perplexity(V)
    assert isinstance(resultado, PerplexityResult)
    assert resultado == (math.log(V), float(V))
    assert math.exp(perdida) == pytest.approx(resultado.perplexity, rel=1e-5)
    assert perdida == pytest.approx(resultado.loss, rel=1e-6)
    assert uniform_perplexity(2).loss == math.log(2)


def test_unigram_perplexity_contada_a_mano():
    # train [1, 1, 2, 3], vocab 5, add-1: cuentas + 1 = [1, 3, 2, 2, 1] sobre 4 + 5 = 9
    loss, ppl = unigram_perplexity([1, 1, 2, 3], [1, 4], vocab_size=5)
    assert loss == pytest.approx(-(math.log(3 / 9) + math.log(1 / 9)) / 2, rel=1e-12)
    assert ppl == pytest.approx(math.sqrt(27), rel=1e-12)  # (9/3 · 9/1) ** (1/2)
    # add-0.5: p(1) = 2.5 / 6.5, p(4) = 0.5 / 6.5
    loss, _ = unigram_perplexity([1, 1, 2, 3], [1, 4], vocab_size=5, smoothing=0.5)
    assert loss == pytest.approx(-(math.log(2.5 / 6.5) + math.log(0.5 / 6.5)) / 2, rel=1e-12)
    # sin suavizar y sin tokens nuevos: p(1) = 2/4, p(2) = 1/4
    assert unigram_perplexity([1, 1, 2, 3], [1, 2], vocab_size=5, smoothing=0).perplexity == pytest.approx(
        math.sqrt(8), rel=1e-12
    )
    # tensores (1, n) y (n,) valen igual que listas
    assert unigram_perplexity(torch.tensor([[1, 1, 2, 3]]), torch.tensor([1, 4]), vocab_size=5) == pytest.approx(
        unigram_perplexity([1, 1, 2, 3], [1, 4], vocab_size=5)
    )


def test_unigram_con_mucho_suavizado_tiende_a_la_uniforme():
    loss, ppl = unigram_perplexity([7] * 50, [7, 8, 9], vocab_size=V, smoothing=1e9)
    assert loss == pytest.approx(uniform_perplexity(V).loss, rel=1e-6)
    assert ppl == pytest.approx(V, rel=1e-5)


# --- 2. Log-verosimilitud de un texto, bits por byte y por carácter -----------------------------------------------

def _nll_ventanas_sin_solape(modelo, ids):
    """La suma de entropías cruzadas de ventanas consecutivas de CONTEXTO tokens, con cross_entropy(reduction="sum")."""
    total = 0.0
    with torch.no_grad():
        for inicio in range(0, len(ids) - 1, CONTEXTO):
            x = torch.tensor(ids[inicio:inicio + CONTEXTO])
            y = torch.tensor(ids[inicio + 1:inicio + CONTEXTO + 1])
            x = x[:len(y)]
            total += torch.nn.functional.cross_entropy(modelo(x.unsqueeze(0))[0], y, reduction="sum").item()
    return total


def _nll_token_a_token(modelo, ids, stride):
    """Cada objetivo t por separado, con el contexto que le corresponde: el de la primera ventana (de inicio k·stride)
    que lo contiene, es decir, ids[k·stride:t] con k = max(0, ceil((t - CONTEXTO) / stride))."""
    total = 0.0
    with torch.no_grad():
        for t in range(1, len(ids)):
            k = max(0, math.ceil((t - CONTEXTO) / stride))
            contexto = torch.tensor(ids[k * stride:t]).unsqueeze(0)
            assert 1 <= contexto.shape[1] <= CONTEXTO
            total -= torch.log_softmax(modelo(contexto)[0, -1], dim=-1)[ids[t]].item()
    return total


def test_text_nll_con_bos_puntua_todos_los_tokens(modelo, tokenizer):
    ids = tokenizer.encode(TEXTO)
    assert len(ids) > 2 * CONTEXTO  # al menos tres ventanas
    resultado = text_nll(modelo, TEXTO, tokenizer)
    assert resultado.num_tokens == len(ids)
    assert resultado.scored_text == TEXTO
    esperado = _nll_ventanas_sin_solape(modelo, [50256] + ids)
    assert resultado.total_nats == pytest.approx(esperado, rel=1e-5)
    # bits por byte y por carácter a partir de esa suma, con los bytes UTF-8 y los caracteres contados aparte
    num_bytes = len(TEXTO.encode("utf-8"))
    assert num_bytes > len(TEXTO)
    assert bits_per_byte(resultado.total_nats, resultado.scored_text) == pytest.approx(
        esperado / math.log(2) / num_bytes, rel=1e-5
    )
    assert bits_per_char(resultado.total_nats, resultado.scored_text) == pytest.approx(
        esperado / math.log(2) / len(TEXTO), rel=1e-5
    )


def test_text_nll_sin_bos_no_puntua_el_primer_token(modelo, tokenizer):
    ids = tokenizer.encode(TEXTO)
    resultado = text_nll(modelo, TEXTO, tokenizer, bos_id=None)
    assert resultado.num_tokens == len(ids) - 1
    assert tokenizer.decode(ids[:1]) == "Every"
    assert resultado.scored_text == TEXTO[len("Every"):]
    assert resultado.total_nats == pytest.approx(_nll_ventanas_sin_solape(modelo, ids), rel=1e-5)


@pytest.mark.parametrize("stride", [1, 5, CONTEXTO])
@pytest.mark.parametrize("bos_id", [50256, None])
def test_text_nll_con_stride_da_a_cada_token_su_contexto(modelo, tokenizer, stride, bos_id):
    ids = tokenizer.encode(TEXTO)
    secuencia = ids if bos_id is None else [bos_id] + ids
    resultado = text_nll(modelo, TEXTO, tokenizer, stride=stride, bos_id=bos_id)
    assert resultado.num_tokens == len(secuencia) - 1
    assert resultado.total_nats == pytest.approx(_nll_token_a_token(modelo, secuencia, stride), rel=1e-5)


def test_text_nll_con_un_contexto_menor_que_el_del_modelo(modelo, tokenizer):
    ids = [50256] + tokenizer.encode(TEXTO)
    resultado = text_nll(modelo, TEXTO, tokenizer, context_length=4, stride=4)
    esperado = 0.0
    with torch.no_grad():
        for t in range(1, len(ids)):
            inicio = ((t - 1) // 4) * 4  # ventanas [0, 4), [4, 8), ...
            esperado -= torch.log_softmax(modelo(torch.tensor([ids[inicio:t]]))[0, -1], dim=-1)[ids[t]].item()
    assert resultado.total_nats == pytest.approx(esperado, rel=1e-5)


def test_text_nll_deja_el_modelo_como_estaba_y_apaga_el_dropout(modelo, tokenizer):
    en_evaluacion = text_nll(modelo, TEXTO, tokenizer).total_nats
    modelo.train()
    try:
        assert text_nll(modelo, TEXTO, tokenizer).total_nats == en_evaluacion  # sin dropout: mismo resultado
        assert modelo.training
    finally:
        modelo.eval()
    assert torch.is_grad_enabled()


def test_bits_por_byte_y_por_caracter_a_mano():
    diez_bits = 10 * math.log(2)  # 10 bits, en nats
    assert bits_per_byte(diez_bits, "añ") == pytest.approx(10 / 3)  # «ñ» ocupa 2 bytes
    assert bits_per_char(diez_bits, "añ") == pytest.approx(10 / 2)
    assert bits_per_byte(0.0, "a") == 0.0


# --- 3. Pérdida por posición ----------------------------------------------------------------------------------------

def test_loss_by_position_media_igual_a_calc_loss_loader(modelo):
    cargador = _cargador(3)
    por_posicion = loss_by_position(modelo, cargador, CPU)
    assert por_posicion.shape == (CONTEXTO,)
    with torch.no_grad():
        media = calc_loss_loader(cargador, modelo, CPU)
        dos_lotes = calc_loss_loader(cargador, modelo, CPU, num_batches=2)
    assert por_posicion.mean().item() == pytest.approx(media, rel=1e-6)
    assert loss_by_position(modelo, cargador, CPU, num_batches=2).mean().item() == pytest.approx(dos_lotes, rel=1e-6)
    assert loss_by_position(modelo, cargador, num_batches=2).mean().item() == pytest.approx(dos_lotes, rel=1e-6)


def test_loss_by_position_cada_posicion_por_separado(modelo):
    cargador = _cargador(3)
    x = torch.cat([a for a, _ in cargador])
    y = torch.cat([b for _, b in cargador])
    with torch.no_grad():
        logits = modelo(x)  # (6, CONTEXTO, V)
    esperado = torch.tensor(
        [torch.nn.functional.cross_entropy(logits[:, j], y[:, j]).item() for j in range(CONTEXTO)], dtype=torch.float64
    )
    torch.testing.assert_close(loss_by_position(modelo, cargador, CPU), esperado, rtol=1e-5, atol=1e-6)


def test_loss_by_position_con_ventanas_de_longitudes_distintas(modelo):
    (x16, y16), = list(_cargador(1, seq=16, semilla=2))
    (x8, y8), = list(_cargador(1, batch_size=3, seq=8, semilla=3))  # otro tamaño de lote
    with torch.no_grad():
        p16 = torch.nn.functional.cross_entropy(modelo(x16).transpose(1, 2), y16, reduction="none").sum(0)
        p8 = torch.nn.functional.cross_entropy(modelo(x8).transpose(1, 2), y8, reduction="none").sum(0)
    esperado = p16.double() / 2
    esperado[:8] = (p16[:8].double() + p8.double()) / 5  # las 8 primeras posiciones, en las 2 + 3 filas
    torch.testing.assert_close(loss_by_position(modelo, [(x16, y16), (x8, y8)], CPU), esperado, rtol=1e-5, atol=1e-6)


def test_loss_by_position_apaga_el_dropout_y_lo_vuelve_a_encender(modelo):
    cargador = _cargador(2)
    en_evaluacion = loss_by_position(modelo, cargador, CPU)
    modelo.train()
    try:
        torch.testing.assert_close(loss_by_position(modelo, cargador, CPU), en_evaluacion, rtol=0, atol=0)
        assert modelo.training
    finally:
        modelo.eval()


# --- 4. Tasa de aciertos top-k -------------------------------------------------------------------------------------

def test_top_k_accuracy_frente_a_un_bucle_explicito(modelo):
    cargador = _cargador_con_aciertos(modelo)
    aciertos = {1: 0, 5: 0, 8: 0, 10: 0}
    total = 0
    with torch.no_grad():
        for x, y in cargador:
            logits = modelo(x)
            for i in range(x.shape[0]):
                for j in range(x.shape[1]):
                    fila, objetivo = logits[i, j], int(y[i, j])
                    aciertos[1] += int(torch.argmax(fila)) == objetivo
                    por_encima = int((fila > fila[objetivo]).sum())  # cuántos tokens tienen un logit mayor
                    for k in (5, 8, 10):
                        aciertos[k] += por_encima < k
                    total += 1
    resultado = top_k_accuracy(modelo, cargador, CPU, ks=(1, 5, 8, 10))
    assert resultado == {k: aciertos[k] / total for k in (1, 5, 8, 10)}
    # la construcción del cargador: de cada 8 objetivos, uno en el puesto 1, uno en el 2, uno en el 5...
    assert resultado[1] == pytest.approx(1 / 8, abs=0.01)  # puesto 1
    assert resultado[5] == pytest.approx(3 / 8, abs=0.01)  # puestos 1, 2 y 5
    assert resultado[8] == pytest.approx(5 / 8, abs=0.01)  # y además el 6 y el 8
    assert resultado[10] == pytest.approx(6 / 8, abs=0.01)  # y además el 9
    assert top_k_accuracy(modelo, cargador, CPU, ks=1) == {1: resultado[1]}
    assert top_k_accuracy(modelo, cargador, CPU, ks=[5], num_batches=1)[5] == pytest.approx(3 / 8, abs=0.02)


# --- 5. Calibración ------------------------------------------------------------------------------------------------

def test_collect_confidences_frente_a_softmax_a_mano(modelo):
    cargador = _cargador_con_aciertos(modelo)
    confianzas, aciertos = collect_confidences(modelo, cargador, CPU)
    x = torch.cat([a for a, _ in cargador])
    y = torch.cat([b for _, b in cargador])
    with torch.no_grad():
        logits = modelo(x)
    esperadas, esperados = [], []
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            probas = torch.exp(logits[i, j] - logits[i, j].max())
            probas = probas / probas.sum()
            esperadas.append(float(probas.max()))
            esperados.append(int(torch.argmax(logits[i, j])) == int(y[i, j]))
    assert confianzas.shape == aciertos.shape == (x.numel(),)
    assert aciertos.dtype == torch.bool and aciertos.tolist() == esperados
    torch.testing.assert_close(confianzas, torch.tensor(esperadas), rtol=1e-5, atol=1e-7)
    assert aciertos.float().mean().item() == pytest.approx(top_k_accuracy(modelo, cargador, CPU, ks=1)[1])


def test_calibration_bins_a_mano():
    confianzas = [0.05, 0.15, 0.18, 0.3, 0.95, 1.0, 0.0, 0.2, 0.4]
    aciertos = [False, True, False, True, True, True, False, True, False]
    cajas = calibration_bins(confianzas, aciertos, n_bins=5)
    assert isinstance(cajas, CalibrationBins)
    torch.testing.assert_close(cajas.edges, torch.tensor([0.0, 0.2, 0.4, 0.6, 0.8, 1.0], dtype=torch.float64))
    # (0, 0.2] con el 0: 0.05, 0.15, 0.18, 0.0 y 0.2 (borde: a la caja de abajo); (0.2, 0.4]: 0.3 y 0.4; (0.8, 1]: 0.95, 1
    assert cajas.counts.tolist() == [5, 2, 0, 0, 2]
    torch.testing.assert_close(cajas.mean_confidence, torch.tensor(
        [(0.05 + 0.15 + 0.18 + 0.0 + 0.2) / 5, 0.35, math.nan, math.nan, 0.975], dtype=torch.float64), equal_nan=True)
    torch.testing.assert_close(cajas.accuracy, torch.tensor([2 / 5, 1 / 2, math.nan, math.nan, 1.0],
                                                            dtype=torch.float64), equal_nan=True)
    ece = (5 / 9) * abs(2 / 5 - 0.58 / 5) + (2 / 9) * abs(0.5 - 0.35) + (2 / 9) * abs(1.0 - 0.975)
    assert expected_calibration_error(confianzas, aciertos, n_bins=5) == pytest.approx(ece, rel=1e-12)
    # 0/1 en lugar de bool, y tensores float64 en lugar de listas, dan lo mismo
    assert expected_calibration_error(torch.tensor(confianzas, dtype=torch.float64), torch.tensor(aciertos).int(),
                                      5) == pytest.approx(ece, rel=1e-12)
    # en float32, 0.2 vale 0.20000000298...: ya no está en el borde y cae en la caja de arriba
    assert calibration_bins(torch.tensor([0.2]), [True], 5).counts.tolist() == [0, 1, 0, 0, 0]
    assert calibration_bins([0.2], [True], 5).counts.tolist() == [1, 0, 0, 0, 0]


def _sintetico(n=200_000, semilla=0):
    g = torch.Generator().manual_seed(semilla)
    confianzas = torch.rand(n, generator=g, dtype=torch.float64) ** 2  # más predicciones con confianza baja
    azar = torch.rand(n, generator=g, dtype=torch.float64)
    return confianzas, azar


def test_ece_de_un_predictor_bien_calibrado_es_casi_cero():
    confianzas, azar = _sintetico()
    aciertos = azar < confianzas  # acierta con probabilidad igual a su confianza
    assert expected_calibration_error(confianzas, aciertos) < 0.01
    cajas = calibration_bins(confianzas, aciertos)
    torch.testing.assert_close(cajas.accuracy, cajas.mean_confidence, rtol=0, atol=0.02)


def test_ece_de_un_predictor_demasiado_seguro_es_su_hueco_medio():
    confianzas, azar = _sintetico()
    aciertos = azar < 0.8 * confianzas  # acierta con probabilidad 0.8·c: el hueco es 0.2·c
    # ECE = Σ (n_caja / N) · 0.2 · c_caja = 0.2 · E[c] = 0.2 / 3 (con c = u², E[c] = 1/3); sin ponderar, saldría 0.1
    assert expected_calibration_error(confianzas, aciertos) == pytest.approx(0.2 / 3, abs=0.005)


def test_ece_no_deja_que_los_huecos_de_signo_contrario_se_anulen():
    confianzas, azar = _sintetico()
    # poco seguro por debajo de 0.25 (la mediana de c = u²), demasiado seguro por encima: huecos de 0.2 en cada caja
    aciertos = azar < torch.where(confianzas <= 0.25, confianzas + 0.2, confianzas - 0.2)
    hueco_global = abs(aciertos.double().mean() - confianzas.mean()).item()
    assert hueco_global < 0.01  # en conjunto, los dos huecos se anulan...
    assert expected_calibration_error(confianzas, aciertos, n_bins=20) == pytest.approx(0.2, abs=0.01)  # ...caja a caja, no
    # con una sola caja, el ECE es justo ese hueco global
    assert expected_calibration_error(confianzas, aciertos, n_bins=1) == pytest.approx(hueco_global, rel=1e-9)


def test_plot_reliability_diagram():
    confianzas = [0.05, 0.15, 0.18, 0.3, 0.95, 1.0, 0.0, 0.2, 0.4]
    aciertos = [False, True, False, True, True, True, False, True, False]
    cajas = calibration_bins(confianzas, aciertos, n_bins=5)
    ece = expected_calibration_error(confianzas, aciertos, n_bins=5)
    rejilla = matplotlib.rcParams["axes.grid"]
    fig = plot_reliability_diagram(confianzas, aciertos, n_bins=5, title="Modelo de prueba")
    try:
        ax1, ax2 = fig.axes
        barras, huecos = ax1.containers
        llenas = cajas.counts > 0
        assert [b.get_height() for b in barras] == pytest.approx(cajas.accuracy[llenas].tolist())
        assert [b.get_x() + b.get_width() / 2 for b in barras] == pytest.approx([0.1, 0.3, 0.9])
        assert [b.get_height() for b in huecos] == pytest.approx((cajas.mean_confidence - cajas.accuracy)[llenas].tolist())
        assert [b.get_height() for b in ax2.containers[0]] == [5, 2, 2]
        diagonal, = ax1.get_lines()
        assert list(diagonal.get_xdata()) == [0, 1] and list(diagonal.get_ydata()) == [0, 1]
        assert [t.get_text() for t in ax1.get_legend().get_texts()] == [
            "Calibración perfecta", "Tasa de aciertos", f"Hueco hasta la confianza\nmedia (ECE = {ece:.4f})"]
        assert ax1.get_title() == "Modelo de prueba" and ax1.get_ylabel() == "Tasa de aciertos"
        assert ax2.get_xlabel() == "Confianza (probabilidad del token más probable)"
        assert ax1.xaxis.get_gridlines()[0].get_visible()  # el estilo del curso, con rejilla
    finally:
        matplotlib.pyplot.close(fig)
    assert matplotlib.rcParams["axes.grid"] == rejilla  # el estilo no se queda puesto fuera de la figura


# --- 6. Memorización y diversidad ----------------------------------------------------------------------------------

ENTRENAMIENTO = list(range(100, 200))  # 100 ids distintos


def test_longest_copied_span_con_tramos_conocidos():
    generado = [1, 2, 3] + ENTRENAMIENTO[10:30] + [4, 5] + ENTRENAMIENTO[50:55]
    tramo = longest_copied_span(generado, ENTRENAMIENTO)
    assert isinstance(tramo, CopiedSpan)
    assert tramo == (20, 3, 10)
    assert longest_copied_span(torch.tensor([generado]), torch.tensor(ENTRENAMIENTO)) == tramo  # también tensores
    assert longest_copied_span([1, 2, 3], ENTRENAMIENTO) == (0, None, None)  # nada en común
    assert longest_copied_span([150], ENTRENAMIENTO) == (1, 0, 50)
    # dos tramos igual de largos: el que empieza antes en lo generado; dentro de él, la primera aparición
    assert longest_copied_span([7, 160, 161, 8, 120, 121], ENTRENAMIENTO) == (2, 1, 60)
    assert longest_copied_span([5, 6], [1, 5, 6, 2, 5, 6]) == (2, 0, 1)


def _tramo_fuerza_bruta(generado, entrenamiento):
    mejor = (0, None, None)
    for i in range(len(generado)):
        for j in range(len(entrenamiento)):
            n = 0
            while i + n < len(generado) and j + n < len(entrenamiento) and generado[i + n] == entrenamiento[j + n]:
                n += 1
            if n > mejor[0]:
                mejor = (n, i, j)
    return mejor


@pytest.mark.parametrize("semilla", range(5))
def test_longest_copied_span_igual_que_la_fuerza_bruta(semilla):
    g = torch.Generator().manual_seed(semilla)
    entrenamiento = torch.randint(0, 3, (60,), generator=g).tolist()  # alfabeto de 3: muchas coincidencias
    generado = torch.randint(0, 3, (30,), generator=g).tolist()
    assert tuple(longest_copied_span(generado, entrenamiento)) == _tramo_fuerza_bruta(generado, entrenamiento)


def test_copied_ngram_fraction_con_tramos_conocidos():
    generado = [1, 2, 3] + ENTRENAMIENTO[10:30] + [4, 5] + ENTRENAMIENTO[50:55]  # 30 tokens: 27 cuatrigramas
    # copiados: los 17 que caben en el tramo de 20 y los 2 del de 5
    assert copied_ngram_fraction(generado, ENTRENAMIENTO, 4) == pytest.approx(19 / 27)
    assert copied_ngram_fraction(generado, ENTRENAMIENTO, 1) == pytest.approx(25 / 30)
    assert copied_ngram_fraction(generado, ENTRENAMIENTO, 21) == 0.0
    assert copied_ngram_fraction(ENTRENAMIENTO[:40], ENTRENAMIENTO, 8) == 1.0


@pytest.mark.parametrize("n", [1, 2, 3])
def test_copied_ngram_fraction_igual_que_la_busqueda_a_mano(n):
    g = torch.Generator().manual_seed(n)
    entrenamiento = torch.randint(0, 4, (40,), generator=g).tolist()
    generado = torch.randint(0, 4, (25,), generator=g).tolist()
    copiados = sum(
        any(generado[i:i + n] == entrenamiento[j:j + n] for j in range(len(entrenamiento) - n + 1))
        for i in range(len(generado) - n + 1)
    )
    assert copied_ngram_fraction(generado, entrenamiento, n) == pytest.approx(copiados / (len(generado) - n + 1))


def test_distinct_n_a_mano():
    ids = [1, 2, 1, 2, 3]
    assert distinct_n(ids, 1) == pytest.approx(3 / 5)  # {1, 2, 3}
    assert distinct_n(ids, 2) == pytest.approx(3 / 4)  # (1,2) (2,1) (1,2) (2,3)
    assert distinct_n(ids, 3) == 1.0  # (1,2,1) (2,1,2) (1,2,3)
    assert distinct_n([9] * 10, 2) == pytest.approx(1 / 9)
    assert distinct_n(ids, 5) == 1.0


def test_repetition_rate_a_mano():
    ids = [1, 2, 1, 2, 3]
    assert repetition_rate(ids, 2) == pytest.approx(1 / 4)  # (1,2) en la posición 2 ya salió en la 0
    assert repetition_rate(ids, 1) == pytest.approx(2 / 5)  # el segundo 1 y el segundo 2
    assert repetition_rate([9] * 10, 2) == pytest.approx(8 / 9)
    # con ventana: (1,2) se repite a 4 posiciones de distancia
    assert repetition_rate([1, 2, 3, 4, 1, 2], 2, window=4) == pytest.approx(1 / 5)
    assert repetition_rate([1, 2, 3, 4, 1, 2], 2, window=3) == 0.0
    # la ventana mira la última aparición: el 1 de la posición 6 cuenta (el de la 3 está a 3), aunque el de la 0 está a 6
    assert repetition_rate([1, 0, 0, 1, 5, 6, 1], 1, window=3) == pytest.approx(3 / 7)  # el segundo 0 y dos 1
    assert repetition_rate([1, 0, 0, 1, 5, 6, 1], 1, window=2) == pytest.approx(1 / 7)  # solo el segundo 0


@pytest.mark.parametrize("n", [1, 2, 4])
def test_repetition_rate_sin_ventana_es_uno_menos_distinct_n(n):
    ids = torch.randint(0, 5, (50,), generator=torch.Generator().manual_seed(n)).tolist()
    assert repetition_rate(ids, n) == pytest.approx(1 - distinct_n(ids, n))
    assert repetition_rate(ids, n, window=len(ids)) == repetition_rate(ids, n)  # una ventana que lo abarca todo
    assert repetition_rate(ids, n, window=3) <= repetition_rate(ids, n)
    assert repetition_rate(ids, 1, window=3) < repetition_rate(ids, 1)  # con 5 ids distintos, no todo está cerca


# --- Errores de entrada --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("llamada", "mensaje"), [
    (lambda: uniform_perplexity(0), r"^vocab_size debe ser un entero mayor o igual que 1; has pasado 0 \(int\)\.$"),
    (lambda: uniform_perplexity(2.5), r"has pasado 2\.5 \(float\)"),
    (lambda: unigram_perplexity([], [1], 5), r"^train_ids está vacío: no hay ningún token que medir\."),
    (lambda: unigram_perplexity([1], [], 5), r"^eval_ids está vacío"),
    (lambda: unigram_perplexity([1, 5], [1], 5),
     r"^train_ids contiene el id 5, fuera del vocabulario: con vocab_size=5, los ids válidos van de 0 a 4\.$"),
    (lambda: unigram_perplexity([1], [7], 5), r"^eval_ids contiene el id 7"),
    (lambda: unigram_perplexity([1, -2], [1], 5), r"contiene el id negativo -2\.$"),
    (lambda: unigram_perplexity([1, 1.5], [1], 5), r"en la posición 1 hay 1\.5 \(float\)\.$"),
    (lambda: unigram_perplexity([1, True], [1], 5), r"en la posición 1 hay True \(bool\)\.$"),
    (lambda: unigram_perplexity(torch.zeros(2, 3, dtype=torch.long), [1], 5),
     r"^train_ids debe ser una lista de ids de tokens .* has pasado un tensor de forma \(2, 3\) y tipo torch\.int64\.$"),
    (lambda: unigram_perplexity(torch.tensor([1.0, 2.0]), [1], 5), r"tipo torch\.float32"),
    (lambda: unigram_perplexity("1 2 3", [1], 5), r"has pasado '1 2 3' \(str\)\.$"),
    (lambda: unigram_perplexity([1], [1], 5, smoothing=-1), r"^smoothing \(suavizado add-k\) debe ser un número finito"),
    (lambda: unigram_perplexity([1, 2], [1, 3], 5, smoothing=0),
     r"^Con smoothing=0, el token 3 de eval_ids no aparece en train_ids"),
    (lambda: bits_per_byte(1.0, ""), r"^text debe ser el texto no vacío"),
    (lambda: bits_per_char(1.0, None), r"has pasado None \(NoneType\)\.$"),
    (lambda: bits_per_byte(-1.0, "a"), r"^total_nll_nats .* debe ser un número finito mayor o igual que 0\.0"),
    (lambda: bits_per_byte(math.nan, "a"), r"has pasado nan \(float\)"),
    (lambda: calibration_bins([0.5, 0.7], [True], 10),
     r"^confidences y correct deben tener la misma forma .* confidences de forma \(2,\) y correct de forma \(1,\)\.$"),
    (lambda: calibration_bins([], [], 10), r"^confidences y correct están vacíos"),
    (lambda: calibration_bins([0.5, 1.2], [True, False]), r"la de la posición 1 vale 1\.2\.$"),
    (lambda: calibration_bins([-0.1], [True]), r"la de la posición 0 vale -0\.1\.$"),
    (lambda: expected_calibration_error([0.5, math.nan], [True, False]), r"la de la posición 1 vale nan\.$"),
    (lambda: calibration_bins([0.5, 0.6], [1, 2]), r"^correct debe valer True/False \(o 1/0\)"),
    (lambda: calibration_bins(["alta"], [True]), r"^confidences debe ser un tensor o una lista de números"),
    (lambda: calibration_bins([0.5], [True], n_bins=0), r"^n_bins debe ser un entero mayor o igual que 1"),
    (lambda: expected_calibration_error([0.5], [True], n_bins=2.0), r"^n_bins .* has pasado 2\.0 \(float\)"),
    (lambda: plot_reliability_diagram([0.5], [True], title=3), r"^title debe ser un texto \(str\) o None"),
    (lambda: longest_copied_span([], [1, 2]), r"^generated_ids está vacío"),
    (lambda: longest_copied_span([1], []), r"^train_ids está vacío"),
    (lambda: copied_ngram_fraction([1, 2], [1, 2, 3], 0),
     r"^n \(tokens por n-grama\) debe ser un entero mayor o igual que 1; has pasado 0 \(int\)\.$"),
    (lambda: copied_ngram_fraction([1, 2], [1, 2, 3], 3),
     r"^generated_ids tiene 2 tokens, menos que n=3: no contiene ningún n-grama de 3 tokens\."),
    (lambda: copied_ngram_fraction([1, 2, 3], [1, 2], 3), r"^train_ids tiene 2 tokens, menos que n=3"),
    (lambda: distinct_n([1, 2], 3), r"^ids tiene 2 tokens, menos que n=3"),
    (lambda: distinct_n([], 1), r"^ids está vacío"),
    (lambda: distinct_n([1, 2], -1), r"^n \(tokens por n-grama\) debe ser un entero"),
    (lambda: repetition_rate([1, 2], 1, window=0), r"^window debe ser un entero mayor o igual que 1 \(o None\)"),
])
def test_errores_de_entrada_sin_modelo(llamada, mensaje):
    with pytest.raises(ValueError, match=mensaje):
        llamada()


def test_errores_de_text_nll(modelo, tokenizer):
    with pytest.raises(ValueError, match=r"^text debe ser un texto no vacío \(str\); has pasado '' \(str\)\.$"):
        text_nll(modelo, "", tokenizer)
    with pytest.raises(ValueError, match=r"has pasado un tensor de forma \(1, 3\)"):
        text_nll(modelo, torch.zeros(1, 3), tokenizer)
    with pytest.raises(TypeError, match=r"^tokenizer debe tener los métodos encode y decode_bytes"):
        text_nll(modelo, TEXTO, "gpt2")
    with pytest.raises(ValueError, match=r"^stride debe ser un entero entre 1 y 16 \(o None\); has pasado 17 \(int\)\. "
                                         r"El stride no puede pasar de context_length"):
        text_nll(modelo, TEXTO, tokenizer, stride=17)
    with pytest.raises(ValueError, match=r"^stride debe ser un entero entre 1 y 4"):
        text_nll(modelo, TEXTO, tokenizer, context_length=4, stride=0)
    with pytest.raises(ValueError, match=r"^context_length debe ser un entero mayor o igual que 1"):
        text_nll(modelo, TEXTO, tokenizer, context_length=0)
    with pytest.raises(ValueError, match=r"^Con bos_id=None el primer token no se puntúa y el texto tiene 1 token"):
        text_nll(modelo, "Hello", tokenizer, bos_id=None)
    with pytest.raises(ValueError, match=r"^bos_id debe ser un entero mayor o igual que 0 \(o None\)"):
        text_nll(modelo, TEXTO, tokenizer, bos_id=-1)
    with pytest.raises(TypeError, match=r"^model debe ser un modelo de PyTorch \(un nn\.Module, como GPTModel\); "
                                        r"has pasado str\.$"):
        text_nll("modelo", TEXTO, tokenizer)
    with pytest.raises(ValueError, match=r"^El modelo no tiene pos_emb .* pásala con context_length\.$"):
        text_nll(torch.nn.Linear(2, 2), TEXTO, tokenizer)


def _lote_vacio():
    return DataLoader(TensorDataset(torch.zeros(0, 8, dtype=torch.long), torch.zeros(0, 8, dtype=torch.long)),
                      batch_size=2)


@pytest.mark.parametrize("medida", [loss_by_position, top_k_accuracy, collect_confidences])
def test_errores_de_las_medidas_con_cargador(modelo, medida):
    with pytest.raises(ValueError, match=r"^El cargador de datos no ha dado ningún lote: no hay nada que medir\."):
        medida(modelo, _lote_vacio(), CPU)
    with pytest.raises(TypeError, match=r"has pasado DataLoader\. Parece que has pasado el cargador y el modelo en el "
                                        r"orden contrario: el orden es \(model, data_loader\)\.$"):
        medida(_cargador(1), modelo, CPU)
    with pytest.raises(ValueError, match=r"^num_batches debe ser un entero mayor o igual que 1 \(o None\); "
                                         r"has pasado 0 \(int\)\.$"):
        medida(modelo, _cargador(1), CPU, num_batches=0)
    x, y = next(iter(_cargador(1)))
    with pytest.raises(ValueError, match=r"en el lote 0, las entradas son un tensor de forma \(2, 16\) y tipo "
                                         r"torch\.int64 y los objetivos, un tensor de forma \(16, 2\)"):
        medida(modelo, [(x, y.T)], CPU)
    with pytest.raises(ValueError, match=r"^Cada lote del cargador debe ser un par \(entradas, objetivos\)"):
        medida(modelo, [x], CPU)
    fuera = y.clone()
    fuera[0, 3] = V
    with pytest.raises(ValueError, match=rf"^Hay un objetivo con id {V}, fuera del vocabulario del modelo: los ids "
                                         rf"válidos van de 0 a {V - 1}\.$"):
        medida(modelo, [(x, fuera)], CPU)


def test_errores_de_top_k_accuracy_y_el_modelo_queda_como_estaba(modelo):
    cargador = _cargador(1)
    with pytest.raises(ValueError, match=r"^ks debe ser un entero o una lista no vacía de enteros"):
        top_k_accuracy(modelo, cargador, CPU, ks=())
    with pytest.raises(ValueError, match=r"has pasado '1' \(str\)\.$"):
        top_k_accuracy(modelo, cargador, CPU, ks="1")
    with pytest.raises(ValueError, match=r"^cada k de ks debe ser un entero mayor o igual que 1; has pasado 0 \(int\)"):
        top_k_accuracy(modelo, cargador, CPU, ks=(1, 0))
    modelo.train()
    try:
        with pytest.raises(ValueError, match=rf"^cada k de ks debe estar entre 1 y vocab_size={V}; has pasado "
                                             rf"k={V + 1}\.$"):
            top_k_accuracy(modelo, cargador, CPU, ks=(1, V + 1))  # falla a mitad de la medida...
        assert modelo.training and torch.is_grad_enabled()  # ...y deja el modelo y los gradientes como estaban
    finally:
        modelo.eval()


# --- Los textos de otro dominio ------------------------------------------------------------------------------------

@pytest.mark.parametrize("nombre", ["otro_dominio_en.txt", "otro_dominio_es.txt"])
def test_textos_de_otro_dominio(nombre, tokenizer):
    ruta = RAIZ / "txt" / nombre
    assert ruta.is_file(), f"Falta {ruta}"
    texto = ruta.read_bytes().decode("utf-8")  # falla si no es UTF-8
    assert texto.endswith("\n") and not texto.startswith("\ufeff")
    assert 300 <= len(texto.split()) <= 500
    assert "verdict" not in texto.lower() and "gisburn" not in texto.lower()  # otro dominio que «The Verdict»
    assert len(tokenizer.encode(texto)) > 400
