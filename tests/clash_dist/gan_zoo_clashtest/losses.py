"""This plugin's ``ragan``: gan-zoo's relativistic average loss, marked as this plugin's."""

from gan_zoo.losses.relativistic import RaGANLoss


class ClashRaGAN(RaGANLoss):
    made_by = "gan-zoo-clashtest"
