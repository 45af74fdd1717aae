require ["mime", "foreverypart", "extracttext", "variables", "fileinto"];
foreverypart { extracttext "t"; if string :contains "${t}" "Grüße" { fileinto "found-umlaut"; } if string :contains "${t}" "<p>" { fileinto "tags"; } if string :contains "${t}" "invited" { fileinto "invited"; } }
