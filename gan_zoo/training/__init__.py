"""The trainer: one recipe-like loop that trains any registered G + D + loss on any dataset.

Modules, each one concern (the layout of stylegan2-ada-pytorch's ``training/``):

* :mod:`~gan_zoo.training.run`: :func:`gan_zoo.train`: a config (new or resumed), then the loop;
* :mod:`~gan_zoo.training.resolve`: a :class:`~gan_zoo.config.TrainConfig` from a preset, a recipe
  file, options and ``--set`` overrides, or from a run to resume (no torch);
* :mod:`~gan_zoo.training.build`: the config resolved once against the device, the data and the
  networks (:func:`~gan_zoo.training.build.build` returns a new, complete config and what it
  built);
* :mod:`~gan_zoo.training.result`: the :class:`~gan_zoo.training.result.Run` a training returns
  and the error it raises when it diverges; :mod:`~gan_zoo.training.signals`: stop signals;
  :mod:`~gan_zoo.training.schedule`: the learning-rate schedule;
* :mod:`~gan_zoo.training.step`: :class:`~gan_zoo.training.step.TrainStep`, one step
  (``n_critic`` D updates, one G update) that the loop calls and the tests call;
* :mod:`~gan_zoo.training.streams`: the random streams and the data order, saved for exact resume;
* :mod:`~gan_zoo.training.loop`: :func:`~gan_zoo.training.loop.run_training`, the loop itself, a
  short recipe ("Set up ...", "Update D n_critic
  times, then G.", "Write samples and checkpoints.");
* :mod:`~gan_zoo.training.step_stats`: statistics summed on the device and the health checks;
* :mod:`~gan_zoo.training.rundir`: the run directory: named, claimed, resumed from, checkpointed
  into;
* :mod:`~gan_zoo.training.scoring`: scoring checkpoints with a metric (``--eval-metric``);
* :mod:`~gan_zoo.training.precision`: device and precision choice, autocast and the GradScaler;
* :mod:`~gan_zoo.training.ema`: the generator's exponential moving average;
* :mod:`~gan_zoo.training.augment`: DiffAugment (translation, cutout, color);
* :mod:`~gan_zoo.training.distributed`: DDP under ``torchrun``;
* :mod:`~gan_zoo.training.reporter`: named statistics and their sinks (rich progress bar, plain
  lines, ``metrics.jsonl``);
* :mod:`~gan_zoo.training.trackers`: ``--log``: TensorBoard, Weights & Biases and MLflow sinks;
* :mod:`~gan_zoo.training.plots`: the loss / accuracy plots (sample grids: :mod:`gan_zoo.images`).

Importing this package does not import torch; :func:`gan_zoo.train` is the public entry point.
"""
