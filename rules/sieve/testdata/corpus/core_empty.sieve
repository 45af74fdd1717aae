# an empty script: implicit keep only
