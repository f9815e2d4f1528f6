from ._import_base import ImportCommand


class Command(ImportCommand):
    kind = "units"
