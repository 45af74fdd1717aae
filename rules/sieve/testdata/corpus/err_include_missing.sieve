require "include";
include "does-not-exist";
