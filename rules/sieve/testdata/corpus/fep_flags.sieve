require ["mime", "foreverypart", "fileinto", "variables", "imap4flags"];
foreverypart {
  if header :mime :param "filename" :matches "content-disposition" "*.pdf" { addflag "$HasPDF"; }
  if header :mime :type :is "content-type" "image" { addflag "$HasImage"; }
}
