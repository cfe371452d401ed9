"""Fields shared by the forms: bounded whole numbers and bounded list indexes."""

from __future__ import annotations

from wtforms import FieldList, IntegerField

from webapp.numbers import digits, whole

MAX_LINE_QUANTITY = 100_000


class WholeNumberField(IntegerField):
    """A whole number from 0 to `maximum`, ASCII digits only: "²", "٣", "1e9", "-1" or 5,000
    digits get `message` (IntegerField's int() reads "٣" as 3 and " 1_0" as 10)."""

    def __init__(self, label=None, validators=None, maximum: int = MAX_LINE_QUANTITY,
                 message: str = "Enter a whole number.", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.maximum, self.message = maximum, message

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            self.data = whole(valuelist[0], self.maximum)
            if self.data is None:
                raise ValueError(self.message)


class IndexedList(FieldList):
    """A FieldList reading only short ASCII-digit indexes from field names (packages-0-…):
    WTForms' own takes "packages-²-…" as an index and int() then fails."""

    def _extract_indices(self, prefix, formdata):
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                index = key[offset:].split(self._field_separator, 1)[0]
                if digits(index) and len(index) <= 4:
                    yield int(index)
