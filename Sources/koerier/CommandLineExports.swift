// Every command uses the shared options, failures and output of the command-line module.
@_exported import KoerierCommandLine
