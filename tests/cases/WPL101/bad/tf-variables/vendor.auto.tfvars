open_for_vendor = true
extra_ports     = [3390]
