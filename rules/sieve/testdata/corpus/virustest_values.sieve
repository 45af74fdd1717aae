require ["virustest", "fileinto", "variables"];
if virustest :matches "*" { fileinto "virus-${0}"; }
