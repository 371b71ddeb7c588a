"""Configuration: the settings' schema and ranges, the checks that refuse bad settings in one
paragraph, composing settings as the command line does, and the memory check. The values
live in the YAML files of ``conf/`` (shipped inside the package)."""
