<powershell>not read</powershell>
