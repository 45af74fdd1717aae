require ["variables", "fileinto", "mailbox"];
if header :matches "list-id" "*<*.*>" { set :lower "l" "${2}"; fileinto :create "Lists/${l}"; }
