"""The trainer: one recipe-like loop that trains any registered G + D + loss on any dataset.

Modules, each one concern (the layout of stylegan2-ada-pytorch's ``training/``):

* :mod:`~gan_zoo.training.resolve`: a :class:`~gan_zoo.config.TrainConfig` from a preset, options
  and ``--set`` overrides, or from a run to resume (no torch), and the run directory's name;
* :mod:`~gan_zoo.training.loop`: the loop itself ("Set up networks.", "Update D.", "Update G.",
  "Write samples.");
* :mod:`~gan_zoo.training.setup`: its building blocks: the :class:`~gan_zoo.training.setup.Run`
  it returns, stop signals, the learning-rate schedule, optimizers, data and network checks;
* :mod:`~gan_zoo.training.precision`: device and precision choice, autocast and the GradScaler;
* :mod:`~gan_zoo.training.ema`: the generator's exponential moving average;
* :mod:`~gan_zoo.training.augment`: DiffAugment (translation, cutout, color);
* :mod:`~gan_zoo.training.distributed`: DDP under ``torchrun``;
* :mod:`~gan_zoo.training.reporter`: named statistics and their sinks (rich progress bar, plain
  lines, ``metrics.jsonl``, TensorBoard);
* :mod:`~gan_zoo.training.plots`: the loss / accuracy plots (sample grids: :mod:`gan_zoo.images`).

Importing this package does not import torch; :func:`gan_zoo.train` is the public entry point.
"""
