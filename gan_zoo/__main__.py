"""``python -m gan_zoo`` (also what ``torchrun -m gan_zoo`` runs)."""

from .cli import main

if __name__ == "__main__":
    main()
