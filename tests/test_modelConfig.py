"""Pruebas de seccion05/modelConfig.py: la configuración leída de un modelo ya construido."""

import pytest
import torch

from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05.gptModelFast import GPTModelFast
from seccion05.modelConfig import model_config
from tests.configuraciones import CFG_DIMINUTA


@pytest.mark.parametrize("cfg", [CFG_DIMINUTA, {**CFG_DIMINUTA, "qkv_bias": True, "drop_rate": 0.0, "n_heads": 4}])
@pytest.mark.parametrize("clase", [GPTModel, GPTModelFast])
def test_devuelve_la_configuracion_con_la_que_se_construyo(cfg, clase):
    with torch.device("meta"):  # sin reservar memoria ni sortear pesos: solo importan las formas
        model = clase(cfg)
    assert model_config(model) == cfg


def test_dropouts_distintos_dan_un_error_en_espanol():
    with torch.device("meta"):
        model = GPTModel(CFG_DIMINUTA)
    model.trf_blocks[1].att.dropout.p = 0.3  # como en el ejercicio 4.3
    with pytest.raises(ValueError, match=r"no tienen todas la misma probabilidad \(hay \[0.1, 0.3\]\)"):
        model_config(model)
