"""Entrenamiento simple de un GPT: bucle de entrenamiento, evaluación periódica, muestras de texto,
curvas de pérdida y el punto de control con el modelo entrenado sobre «The Verdict».

Es el bucle del libro, paso a paso y sin trucos: con la misma semilla, los mismos cargadores de datos
y el mismo optimizador, da exactamente las mismas pérdidas que el código de referencia del libro.

Se explica en: seccion05/2_entrenando_llm.ipynb
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from matplotlib.ticker import MaxNLocator

from seccion04_ImplementacionGPTGeneracionTexto.generateTextSimple import generate_text_simple
from seccion04_ImplementacionGPTGeneracionTexto.getDevice import get_device
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05.calcLoss import calc_loss_batch, calc_loss_loader, text_to_token_ids, token_ids_to_text

# Dónde guarda 2_entrenando_llm.ipynb el modelo entrenado (la carpeta modelos/ no se versiona).
VERDICT_MODEL_PATH = Path(__file__).resolve().parent / "modelos" / "gpt_verdict.pth"


def evaluate_model(model, train_loader, val_loader, device, eval_iter):
    """Pérdida media de los primeros `eval_iter` lotes de entrenamiento y de validación: (float, float).

    Evalúa en modo evaluación (sin dropout) y sin gradientes, y deja el modelo en modo entrenamiento.
    Se explica en: seccion05/2_entrenando_llm.ipynb
    """
    model.eval()  # sin dropout: la pérdida medida es la del modelo tal cual
    with torch.no_grad():  # no hace falta guardar el grafo para la retropropagación
        train_loss = calc_loss_loader(train_loader, model, device, num_batches=eval_iter)
        val_loss = calc_loss_loader(val_loader, model, device, num_batches=eval_iter)
    model.train()  # vuelve al modo entrenamiento
    return train_loss, val_loss


def generate_and_print_sample(model, tokenizer, device, start_context):
    """Imprime en una línea `start_context` seguido de 50 tokens generados de forma voraz.

    Se explica en: seccion05/2_entrenando_llm.ipynb
    """
    model.eval()
    context_size = model.pos_emb.weight.shape[0]  # longitud de contexto del modelo
    encoded = text_to_token_ids(start_context, tokenizer).to(device)  # (1, num_tokens)
    with torch.no_grad():
        token_ids = generate_text_simple(model=model, idx=encoded, max_new_tokens=50, context_size=context_size)
    decoded_text = token_ids_to_text(token_ids, tokenizer)
    print(decoded_text.replace("\n", " "))  # en una sola línea, más compacto
    model.train()


def train_model_simple(
    model,
    train_loader,
    val_loader,
    optimizer,
    device,
    num_epochs: int,
    eval_freq: int,
    eval_iter: int,
    start_context: str,
    tokenizer,
) -> tuple[list[float], list[float], list[int]]:
    """Entrena `model` durante `num_epochs` épocas y devuelve (train_losses, val_losses, track_tokens_seen).

    Cada `eval_freq` pasos (empezando por el paso 0) evalúa con `eval_iter` lotes de cada cargador,
    guarda las dos pérdidas y los tokens vistos hasta entonces, e imprime una línea; al final de cada
    época imprime una muestra de texto que continúa `start_context`.
    Se explica en: seccion05/2_entrenando_llm.ipynb
    """
    if num_epochs < 1:
        raise ValueError(f"num_epochs debe ser al menos 1; has pasado {num_epochs}.")
    if eval_freq < 1:
        raise ValueError(f"eval_freq debe ser al menos 1 (evalúa cada eval_freq pasos); has pasado {eval_freq}.")
    if eval_iter is not None and eval_iter < 1:
        raise ValueError(f"eval_iter debe ser al menos 1 (o None para usar todos los lotes); has pasado {eval_iter}.")
    if len(train_loader) == 0:
        raise ValueError(
            "El cargador de entrenamiento no tiene ningún lote: no hay nada con qué entrenar. "
            "Usa un texto más largo, un batch_size menor o drop_last=False."
        )

    # Listas para seguir las pérdidas y los tokens vistos
    train_losses, val_losses, track_tokens_seen = [], [], []
    tokens_seen, global_step = 0, -1

    for epoch in range(num_epochs):
        model.train()  # modo entrenamiento: dropout activo

        for input_batch, target_batch in train_loader:
            optimizer.zero_grad()  # borra los gradientes del paso anterior
            loss = calc_loss_batch(input_batch, target_batch, model, device)
            loss.backward()  # retropropagación: calcula los gradientes
            optimizer.step()  # actualiza los pesos con esos gradientes
            tokens_seen += input_batch.numel()  # batch_size × longitud de contexto
            global_step += 1

            # Evaluación periódica (pasos 0, eval_freq, 2·eval_freq, ...)
            if global_step % eval_freq == 0:
                train_loss, val_loss = evaluate_model(model, train_loader, val_loader, device, eval_iter)
                train_losses.append(train_loss)
                val_losses.append(val_loss)
                track_tokens_seen.append(tokens_seen)
                print(
                    f"Época {epoch + 1}/{num_epochs} (paso {global_step:06d}): "
                    f"pérdida de entrenamiento {train_loss:.3f}, de validación {val_loss:.3f}"
                )

        # Una muestra de texto al final de cada época
        generate_and_print_sample(model, tokenizer, device, start_context)

    return train_losses, val_losses, track_tokens_seen


def plot_losses(epochs_seen, tokens_seen, train_losses, val_losses):
    """Dibuja las pérdidas de entrenamiento y de validación frente a las épocas (eje inferior)
    y a los tokens vistos (eje superior). Devuelve la figura de matplotlib.

    Se explica en: seccion05/2_entrenando_llm.ipynb
    """
    fig, ax1 = plt.subplots(figsize=(6, 3.5))

    # Pérdidas frente a las épocas
    ax1.plot(epochs_seen, train_losses, label="Pérdida de entrenamiento")
    ax1.plot(epochs_seen, val_losses, linestyle="-.", label="Pérdida de validación")
    ax1.set_xlabel("Épocas")
    ax1.set_ylabel("Pérdida")
    ax1.legend(loc="upper right")
    ax1.xaxis.set_major_locator(MaxNLocator(integer=True))  # solo épocas enteras en el eje

    # Segundo eje x, arriba, con los tokens vistos
    ax2 = ax1.twiny()  # comparte el eje y
    ax2.plot(tokens_seen, train_losses, alpha=0)  # curva invisible: solo sirve para alinear las marcas
    ax2.set_xlabel("Tokens vistos")

    fig.tight_layout()
    return fig


def save_verdict_model(model, optimizer, config: dict, path: str | os.PathLike | None = None) -> Path:
    """Guarda {"model_state_dict", "optimizer_state_dict", "config"} en `path` (por defecto
    seccion05/modelos/gpt_verdict.pth) de forma atómica y devuelve la ruta.

    Se escribe en un archivo temporal de la misma carpeta y solo al final se renombra con
    `os.replace`: si algo falla a mitad, el archivo anterior (si lo había) sigue intacto.
    Se explica en: seccion05/2_entrenando_llm.ipynb
    """
    path = Path(path) if path is not None else VERDICT_MODEL_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "config": dict(config),
    }
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(checkpoint, tmp_name)
        os.replace(tmp_name, path)  # renombrado atómico
    finally:
        Path(tmp_name).unlink(missing_ok=True)  # solo queda si algo ha fallado
    return path


def load_verdict_model(path: str | os.PathLike | None = None, device: str | torch.device | None = None) -> GPTModel:
    """Devuelve el GPTModel entrenado en 2_entrenando_llm.ipynb, en modo evaluación y en `device`
    (por defecto, el de `get_device()`).

    Si el archivo no existe, lanza FileNotFoundError y pide ejecutar antes ese cuaderno.
    Se explica en: seccion05/2_entrenando_llm.ipynb (lo usan los cuadernos siguientes de la sección 5)
    """
    path = Path(path) if path is not None else VERDICT_MODEL_PATH
    if not path.is_file():
        raise FileNotFoundError(
            f"No encuentro el modelo entrenado en {path}. Ejecuta antes el cuaderno "
            "seccion05/2_entrenando_llm.ipynb: entrena el modelo con «The Verdict» y lo guarda en esa ruta."
        )
    device = torch.device(device) if device is not None else get_device()
    # weights_only=True: solo tensores y tipos básicos, nunca código arbitrario.
    # mmap=True: del disco solo se leen los tensores que se usan (los pesos, no el estado del optimizador).
    checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    model = GPTModel(checkpoint["config"])
    model.load_state_dict(checkpoint["model_state_dict"])
    model.to(device)
    model.eval()
    return model
