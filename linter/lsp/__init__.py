"""``winportlint lsp``: the language server that lints templates as they are written.

Nothing here is imported by the command line's start-up path; pygls and lsprotocol come with
the ``lsp`` extra. :mod:`.documents` turns buffers into findings (the core's work, no protocol),
:mod:`.convert` turns findings and fixes into protocol types, :mod:`.server` wires the protocol.
"""
