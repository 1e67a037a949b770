"""Masking of personal numbers: re-exports :mod:`bot.numbers`, the one module that reads them.

Kept so that ``from bot.privacy import mask_text`` keeps working; new code imports
:mod:`bot.numbers`.
"""

from bot.numbers import mask_data, mask_id_number, mask_phone, mask_text

__all__ = ["mask_data", "mask_id_number", "mask_phone", "mask_text"]
