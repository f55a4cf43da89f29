# cli_builtin_gen.awk: turns the scenarios/ YAML files into C string literals
# so the built-ins ship inside the binary (POSIX awk, no xxd).
# Escapes are done one character at a time: awks disagree on "\\" in gsub.
function c_escape(s,    out, i, ch) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		ch = substr(s, i, 1)
		if (ch == "\\" || ch == "\"" || ch == "?")	# "??" makes trigraphs
			out = out "\\" ch
		else if (ch == "\t")
			out = out "\\t"
		else if (ch == "\r")
			out = out "\\r"
		else
			out = out ch
	}
	return out
}
BEGIN {
	nfiles = 0
	print "/* Generated from the scenarios/ YAML files by src/cli/cli_builtin_gen.awk: do not edit. */"
	print "#include \"cli/cli_builtin.h\""
}
FNR == 1 {
	if (nfiles > 0)
		print ";"
	name = FILENAME
	sub(/^.*\//, "", name)
	sub(/\.yaml$/, "", name)
	names[nfiles] = name
	paths[nfiles] = FILENAME
	printf "\nstatic const char scen%d[] =\n", nfiles
	nfiles++
}
{
	printf "\t\"%s\\n\"\n", c_escape($0)
}
END {
	if (nfiles > 0)
		print ";"
	printf "\nconst struct cli_builtin cli_builtins[] = {\n"
	for (i = 0; i < nfiles; i++)
		printf "\t{ \"%s\", \"%s\", scen%d, sizeof(scen%d) - 1 },\n", names[i], paths[i], i, i
	printf "\t{ 0, 0, 0, 0 }\n};\n\nconst size_t cli_nr_builtins = %d;\n", nfiles
}
