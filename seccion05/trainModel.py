"""El bucle de entrenamiento del apéndice D del libro: calentamiento lineal de la tasa de aprendizaje, decaimiento
coseno hasta un mínimo y recorte de gradientes por norma.

- `lr_at_step` da la tasa de aprendizaje de cada paso (la usan `train_model` y el programa `seccion05.trainGPT`);
- `gradient_norm` y `find_highest_gradient` miden los gradientes antes y después de recortarlos;
- `train_model` es `train_model_simple` (cuaderno 2) con esas tres piezas. Con la semilla, los datos y los ajustes
  del libro da las mismas pérdidas y tasas que `appendix_d.train_model` del paquete de referencia del libro, en su
  versión corregida: recorta desde el paso `warmup_steps` (`>=`), no desde el siguiente (`>`, la del texto impreso).

No es un programa de entrenamiento con puntos de control, reanudación o varias GPU: eso es `seccion05/trainGPT.py`.
Se explica en: seccion05/7_entrenamiento_avanzado.ipynb
"""

from __future__ import annotations

import math

import torch

from seccion02_TrabajarDatosTexto.checkArgs import check_int, check_number
from seccion05.calcLoss import calc_loss_batch
from seccion05.trainModelSimple import check_training_args, evaluate_model, generate_and_print_sample


def lr_at_step(step: int, total_steps: int, warmup_steps: int, peak_lr: float, initial_lr: float,
               min_lr: float) -> float:
    """La tasa de aprendizaje del paso `step` (0, 1, ..., total_steps - 1).

    - Calentamiento (pasos 0 a warmup_steps - 1): sube en línea recta desde `initial_lr`, un incremento de
      (peak_lr - initial_lr) / warmup_steps por paso, sin llegar a `peak_lr`.
    - Después, decaimiento coseno: desde `peak_lr` en el paso warmup_steps hasta `min_lr` al final,
      min_lr + (peak_lr - min_lr) · ½ · (1 + cos(π · progreso)), con progreso = pasos tras el calentamiento /
      (total_steps - warmup_steps).

    Son las fórmulas del apéndice D del libro. Con warmup_steps=0 no hay calentamiento.
    Se explica en: seccion05/7_entrenamiento_avanzado.ipynb
    """
    check_schedule_args(total_steps, warmup_steps, peak_lr, initial_lr, min_lr)
    step = check_int("step (el paso)", step, minimum=0)
    if step < warmup_steps:  # calentamiento lineal
        lr_increment = (peak_lr - initial_lr) / warmup_steps  # calculado así, da los mismos bits que el libro
        return initial_lr + step * lr_increment
    progress = (step - warmup_steps) / (total_steps - warmup_steps)  # de 0 a casi 1
    return min_lr + (peak_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def check_schedule_args(total_steps, warmup_steps, peak_lr, initial_lr, min_lr) -> None:
    """Comprueba los argumentos de `lr_at_step`, con errores en español que dicen qué se ha recibido."""
    check_int("total_steps (pasos de todo el entrenamiento)", total_steps, minimum=1)
    check_int("warmup_steps (pasos de calentamiento)", warmup_steps, minimum=0, maximum=total_steps - 1,
              hint="Tiene que quedar al menos un paso después del calentamiento.")
    check_number("peak_lr (la tasa máxima)", peak_lr, minimum=0.0)
    check_number("initial_lr (la tasa del primer paso)", initial_lr, minimum=0.0)
    check_number("min_lr (la tasa del final)", min_lr, minimum=0.0)
    if peak_lr <= 0:
        raise ValueError(f"peak_lr (la tasa máxima) debe ser mayor que 0; has pasado {peak_lr}.")
    if initial_lr > peak_lr or min_lr > peak_lr:
        raise ValueError(
            f"initial_lr ({initial_lr}) y min_lr ({min_lr}) no pueden ser mayores que peak_lr ({peak_lr}): la tasa "
            "sube hasta peak_lr durante el calentamiento y baja desde ella después."
        )


def gradient_norm(model) -> float:
    """La norma L2 de todos los gradientes de `model` juntos, como si fueran un solo vector (0.0 si no hay ninguno).

    Es la norma que compara `torch.nn.utils.clip_grad_norm_` con `max_norm` antes de recortar.
    Se explica en: seccion05/7_entrenamiento_avanzado.ipynb
    """
    normas = [torch.linalg.vector_norm(p.grad.detach()) for p in model.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(normas)).item() if normas else 0.0


def find_highest_gradient(model):
    """El mayor valor (con signo, como en el libro) entre todos los gradientes de `model`: un tensor 0-d, o None.

    Se explica en: seccion05/7_entrenamiento_avanzado.ipynb
    """
    max_grad = None
    for param in model.parameters():
        if param.grad is not None:
            max_grad_param = param.grad.detach().max()
            if max_grad is None or max_grad_param > max_grad:
                max_grad = max_grad_param
    return max_grad


def train_model(model, train_loader, val_loader, optimizer, device, n_epochs: int, eval_freq: int, eval_iter: int,
                start_context: str, tokenizer, warmup_steps: int, initial_lr: float = 3e-05, min_lr: float = 1e-6,
                max_norm: float | None = 1.0, grad_norms: list | None = None, orig_book_version: bool = False):
    """Entrena como `train_model_simple`, con calentamiento, decaimiento coseno y recorte de gradientes.

    Devuelve (train_losses, val_losses, track_tokens_seen, track_lrs), como el libro: las tres primeras, cada
    `eval_freq` pasos; `track_lrs`, la tasa de cada paso.
    - La tasa máxima es la que tenga el optimizador al empezar (`lr` de su primer grupo); cada paso la cambia
      según `lr_at_step`, en todos los grupos.
    - Para que la tasa no decaiga, da min_lr igual a esa tasa máxima; para no calentar, warmup_steps=0.
    - Recorta la norma de los gradientes a `max_norm` desde el paso `warmup_steps` (`max_norm=None`: nunca).
      `orig_book_version=True` recorta desde el paso siguiente, como el texto impreso del libro.
    - Si das una lista `grad_norms`, añade en ella la norma de los gradientes de cada paso antes de recortarlos.
    Se explica en: seccion05/7_entrenamiento_avanzado.ipynb
    """
    check_int("n_epochs", n_epochs, minimum=1)
    check_training_args(train_loader, n_epochs, eval_freq, eval_iter, start_context, tokenizer)
    total_training_steps = len(train_loader) * n_epochs
    peak_lr = optimizer.param_groups[0]["lr"]  # la tasa máxima: la del optimizador
    check_schedule_args(total_training_steps, warmup_steps, peak_lr, initial_lr, min_lr)
    if max_norm is not None and check_number("max_norm (la norma máxima de los gradientes)", max_norm) <= 0:
        raise ValueError(f"max_norm debe ser mayor que 0 (o None, para no recortar); has pasado {max_norm}.")
    if grad_norms is not None and not isinstance(grad_norms, list):
        raise TypeError(f"grad_norms debe ser una lista (o None); has pasado {type(grad_norms).__name__}.")
    first_clip_step = warmup_steps + 1 if orig_book_version else warmup_steps

    train_losses, val_losses, track_tokens_seen, track_lrs = [], [], [], []
    tokens_seen, global_step = 0, -1

    for epoch in range(n_epochs):
        model.train()
        for input_batch, target_batch in train_loader:
            optimizer.zero_grad()
            global_step += 1

            # La tasa de este paso: calentamiento lineal y después decaimiento coseno
            lr = lr_at_step(global_step, total_training_steps, warmup_steps, peak_lr, initial_lr, min_lr)
            for param_group in optimizer.param_groups:
                param_group["lr"] = lr
            track_lrs.append(lr)

            loss = calc_loss_batch(input_batch, target_batch, model, device)
            loss.backward()

            # Recorte de la norma de los gradientes, una vez terminado el calentamiento
            if grad_norms is not None:
                grad_norms.append(gradient_norm(model))
            if max_norm is not None and global_step >= first_clip_step:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)

            optimizer.step()
            tokens_seen += input_batch.numel()

            if global_step % eval_freq == 0:
                train_loss, val_loss = evaluate_model(model, train_loader, val_loader, device, eval_iter)
                train_losses.append(train_loss)
                val_losses.append(val_loss)
                track_tokens_seen.append(tokens_seen)
                print(
                    f"Época {epoch + 1}/{n_epochs} (paso {global_step:06d}): "
                    f"pérdida de entrenamiento {train_loss:.3f}, de validación {val_loss:.3f}"
                )

        generate_and_print_sample(model, tokenizer, device, start_context)

    return train_losses, val_losses, track_tokens_seen, track_lrs
