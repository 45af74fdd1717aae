require "fileinto";
if header :is "x-empty" "" { fileinto "empty-value"; }
if header :contains "x-nothing" "" { fileinto "missing"; }
