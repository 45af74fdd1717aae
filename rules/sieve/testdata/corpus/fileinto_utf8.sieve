require "fileinto";
fileinto "Entwürfe/Grüße";
