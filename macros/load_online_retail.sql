{#
  Extract-and-load step, run as on-run-start: reads the raw Online Retail file
  (CSV, gzipped CSV or UCI's xlsx) with DuckDB into the source table
  raw.invoice_lines, one row per line of the file, typed. It stops the build
  with an error naming the file, the column and the line on anything it
  cannot read, so that no line is dropped silently. A file that has not
  changed since the last load (same path, size and modification time) is not
  read again.
#}

{% macro load_online_retail() %}
    {{ return(adapter.dispatch('load_online_retail')()) }}
{% endmacro %}

{% macro default__load_online_retail() %}
    {# Other targets read the raw table that a DuckDB load wrote. #}
    {{ return('') }}
{% endmacro %}

{% macro duckdb__load_online_retail() %}
    {% if not execute or not var('load_raw', true) %}
        {{ return('') }}
    {% endif %}
    {% set file = online_retail_raw_file() %}
    {% set fingerprint = run_query(
        "select size, cast(last_modified as varchar) from read_blob("
        ~ quote_literal(file) ~ ")"
    ).rows[0] %}
    {% do run_query("create schema if not exists raw") %}
    {% do run_query(
        "create table if not exists raw.invoice_line_loads ("
        ~ " source_file varchar, file_size bigint, file_modified_at varchar,"
        ~ " date_format varchar, encoding varchar, lines bigint,"
        ~ " loaded_at timestamp)"
    ) %}
    {% set unchanged = run_query(
        "select count(*) from raw.invoice_line_loads"
        ~ " where source_file = " ~ quote_literal(file)
        ~ " and file_size = " ~ fingerprint[0]
        ~ " and file_modified_at = " ~ quote_literal(fingerprint[1])
        ~ " and loaded_at = (select max(loaded_at) from raw.invoice_line_loads)"
        ~ " and exists (select 1 from information_schema.tables"
        ~ " where table_schema = 'raw' and table_name = 'invoice_lines')"
    ).rows[0][0] > 0 %}
    {% if unchanged and not var('raw_reload', false) %}
        {{ log("Raw file " ~ file ~ " unchanged since its last load: not read again.", info=true) }}
        {{ return('') }}
    {% endif %}

    {% if fingerprint[0] == 0 %}
        {{ exceptions.raise_compiler_error("Raw file " ~ file ~ " is empty (0 bytes).") }}
    {% endif %}
    {% do online_retail_refuse_binary(file, fingerprint[0]) %}
    {% set encoding = online_retail_read_text(file) %}
    {% set date_format = online_retail_check_columns(file) %}
    {% do online_retail_check_values(file, date_format) %}

    {#
      Every check passed: the typed lines replace raw.invoice_lines and the
      load is logged in one transaction, so that an error or a killed process
      leaves the previous load whole, and its log true. No ORDER BY: the
      line number is the text table's rowid, and sorting 54 million lines
      would double the load.
    #}
    {% do run_query(
        "begin transaction;\n"
        ~ "create or replace table raw.invoice_lines as select "
        ~ online_retail_typed_columns(date_format)
        ~ ", " ~ quote_literal(file) ~ " as source_file"
        ~ " from online_retail_text;\n"
        ~ "insert into raw.invoice_line_loads select "
        ~ quote_literal(file) ~ ", " ~ fingerprint[0] ~ ", "
        ~ quote_literal(fingerprint[1]) ~ ", "
        ~ quote_literal(date_format) ~ ", "
        ~ quote_literal(encoding) ~ ", count(*), current_timestamp"
        ~ " from raw.invoice_lines;\n"
        ~ "commit"
    ) %}
    {% set lines = run_query("select count(*) from raw.invoice_lines").rows[0][0] %}
    {{ log("Loaded " ~ lines ~ " lines from " ~ file ~ " (" ~ encoding
        ~ ", dates as " ~ date_format ~ ").", info=true) }}
    {{ return('') }}
{% endmacro %}


{#
  The file that var('raw_path') or INSIDERS_RAW_PATH names; a folder must hold
  exactly one .csv, .csv.gz or .xlsx file.
#}
{% macro online_retail_raw_file() %}
    {% set configured = var('raw_path', env_var('INSIDERS_RAW_PATH', 'data/raw')) %}
    {% set matches = run_query(
        "select file from glob(" ~ quote_literal(configured) ~ ") order by file"
    ).columns[0].values() %}
    {% if matches | length == 0 %}
        {% set matches = run_query(
            "select file from glob(" ~ quote_literal(configured ~ '/*') ~ ")"
            ~ " where regexp_matches(lower(file), '\\.(csv|csv\\.gz|xlsx)$')"
            ~ " order by file"
        ).columns[0].values() %}
    {% endif %}
    {% if matches | length == 0 %}
        {{ exceptions.raise_compiler_error(
            "No raw file at '" ~ configured ~ "'. Set INSIDERS_RAW_PATH (or the var"
            ~ " raw_path) to the Online Retail file (.csv, .csv.gz or .xlsx), or run"
            ~ " `make data` to download UCI's copy into data/raw/."
        ) }}
    {% elif matches | length > 1 %}
        {{ exceptions.raise_compiler_error(
            "More than one raw file at '" ~ configured ~ "': " ~ (matches | join(', '))
            ~ ". Keep one, or point INSIDERS_RAW_PATH at the one to load."
        ) }}
    {% endif %}
    {{ return(matches[0]) }}
{% endmacro %}


{#
  Reads every cell as text into the temp table online_retail_text. CSV is read
  as UTF-8, or as ISO-8859-1 when it is not valid UTF-8 and holds no UTF-8
  character either (var raw_encoding forces one); any line DuckDB cannot split
  stops the load with its number.

  The dialect is given, not sniffed (online_retail_csv_dialect): DuckDB's
  sniffer gives up with an error that names no line when its sample holds a
  line longer than max_line_size or mixes line ends. A longer line becomes a
  rejected line instead, reported with its number and column.
#}
{% macro online_retail_read_text(file) %}
    {% if file.lower().endswith('.xlsx') %}
        {% do run_query("load excel") %}
        {% do run_query(
            "create or replace temp table online_retail_text as select * from read_xlsx("
            ~ quote_literal(file) ~ ", all_varchar = true, header = true)"
        ) %}
        {{ return('xlsx') }}
    {% endif %}
    {% set max_line_size = 2000000 %}
    {% set configured = var('raw_encoding', 'auto') %}
    {% set dialect = online_retail_csv_dialect(
        file, 'utf-8' if configured == 'auto' else configured, max_line_size) %}
    {% set first_pass = namespace(invalid_line=none) %}
    {% for encoding in (['utf-8', 'latin-1'] if configured == 'auto' else [configured]) %}
        {% set columns = online_retail_csv_columns(file, dialect, encoding, max_line_size) %}
        {% set types = [] %}
        {% for column in columns %}
            {% do types.append(quote_literal(column) ~ ": 'VARCHAR'") %}
        {% endfor %}
        {% do run_query("drop table if exists online_retail_rejects") %}
        {% do run_query("drop table if exists online_retail_scans") %}
        {% do run_query(
            "create or replace temp table online_retail_text as select * from read_csv("
            ~ quote_literal(file) ~ ", auto_detect = false, header = true,"
            ~ " columns = {" ~ (types | join(', ')) ~ "},"
            ~ " delim = " ~ quote_literal(dialect.delim) ~ ", quote = '\"', escape = '\"',"
            ~ (" new_line = '\\n', comment = chr(13)," if dialect.cr_comment else "")
            ~ " max_line_size = " ~ max_line_size ~ ","
            ~ " encoding = " ~ quote_literal(encoding) ~ ", store_rejects = true,"
            ~ " rejects_table = 'online_retail_rejects',"
            ~ " rejects_scan = 'online_retail_scans')"
        ) %}
        {% do online_retail_refuse_long_line(file, columns, dialect.delim, max_line_size) %}
        {% set rejects = run_query(
            "select line, cast(error_type as varchar), error_message, csv_line"
            ~ " from online_retail_rejects order by line limit 3"
        ).rows %}
        {% set error_types = [] %}
        {% for reject in rejects %}
            {% do error_types.append(reject[1]) %}
        {% endfor %}
        {% set only_encoding = error_types | unique | list == ['INVALID ENCODING'] %}
        {% if rejects | length == 0 and first_pass.invalid_line is not none %}
            {% do online_retail_refuse_mixed_encoding(file, first_pass.invalid_line) %}
            {{ return(encoding) }}
        {% elif rejects | length == 0 %}
            {{ return(encoding) }}
        {% elif only_encoding and loop.first and not loop.last %}
            {% set first_pass.invalid_line = rejects[0][0] %}
            {% do online_retail_refuse_c1_bytes(file, rejects[0][0]) %}
        {% else %}
            {% set details = [] %}
            {% for reject in rejects %}
                {% do details.append("line " ~ reject[0] ~ ": " ~ reject[2]
                    ~ " [" ~ (reject[3] | string | truncate(80)) ~ "]") %}
            {% endfor %}
            {{ exceptions.raise_compiler_error(
                "Raw file " ~ file ~ " cannot be read as " ~ encoding ~ " CSV: "
                ~ (details | join('; '))
            ) }}
        {% endif %}
    {% endfor %}
{% endmacro %}


{#
  What DuckDB's sniffer found before, from the file's first lines only (reads
  with parallel = false and a limit; a line they cannot decode is skipped):
  the delimiter (the one of , ; tab | that the first line holds most often, a
  comma on a tie) and how lines end.

  Line ends: a file written with LF whose later lines end with CRLF (lines
  appended on Windows) stops DuckDB's strict reader ("state machine reached an
  invalid state", no line named), and strict_mode = false would let through
  lines with too many fields too. So a file whose first line ends with LF is
  read with new_line '\n' and CR as the comment character: a CR ends the
  line's last value, the LF after it the line. Not when CR alone ends lines
  (old Mac files: CR as a comment would swallow every other line), nor when
  the first line ends with CRLF (DuckDB reads CRLF then, blank lines too, as
  before): the first lines, read once with CR as a line end and once with CR
  as a comment, tell which. Not handled (DuckDB's error stands, or worse):
  LF lines in a file that starts with CRLF, blank CRLF lines in one that
  starts with LF, a CR alone within a line (the rest of the line is dropped)
  and a last value of spaces only before a CRLF (DuckDB drops that line).
#}
{% macro online_retail_csv_dialect(file, encoding, max_line_size) %}
    {% set probes = [] %}
    {% for comment in ['', ', comment = chr(13)'] %}
        {% do probes.append(fromjson(run_query(
            "select to_json(coalesce(list(line), [])) from (select line from read_csv("
            ~ quote_literal(file) ~ ", auto_detect = false, header = false,"
            ~ " columns = {'line': 'VARCHAR'}, delim = chr(31), quote = '', escape = '',"
            ~ " new_line = '\\n'" ~ comment ~ ", strict_mode = false, parallel = false,"
            ~ " ignore_errors = true, max_line_size = " ~ max_line_size ~ ","
            ~ " encoding = " ~ quote_literal(encoding) ~ ") limit 3)"
        ).rows[0][0])) %}
    {% endfor %}
    {% set plain, commented = probes %}
    {% set first_line = (plain[0] if plain and plain[0] is not none else '') %}
    {% set best = namespace(delim=',', count=first_line.count(',')) %}
    {% for delim in [';', '\t', '|'] %}
        {% if first_line.count(delim) > best.count %}
            {% set best.delim = delim %}
            {% set best.count = first_line.count(delim) %}
        {% endif %}
    {% endfor %}
    {{ return({
        'delim': best.delim,
        'cr_comment': plain | length > 1 and plain[1] is not none
            and commented | length > 1 and commented[1] == plain[1],
    }) }}
{% endmacro %}


{#
  The columns of the header line, read in the encoding of the pass (a header
  line it cannot decode is skipped: the next line's values become the names,
  and the check of the columns fails), named as DuckDB's sniffer named them:
  trimmed, 'column<i>' for an empty field, '_<n>' added to a repeated name.
  Up to 256 fields; padding is NULL, an empty field '' (nullstr).
#}
{% macro online_retail_csv_columns(file, dialect, encoding, max_line_size) %}
    {% set fields = [] %}
    {% set types = [] %}
    {% for i in range(256) %}
        {% do fields.append('c' ~ i) %}
        {% do types.append('c' ~ i ~ ": 'VARCHAR'") %}
    {% endfor %}
    {% set header = fromjson(run_query(
        "select coalesce(to_json(any_value([" ~ (fields | join(', ')) ~ "])), '[]')"
        ~ " from (select * from read_csv(" ~ quote_literal(file) ~ ", auto_detect = false,"
        ~ " header = false, columns = {" ~ (types | join(', ')) ~ "}, null_padding = true,"
        ~ " nullstr = chr(31), delim = " ~ quote_literal(dialect.delim) ~ ","
        ~ " quote = '\"', escape = '\"', new_line = '\\n', comment = chr(13),"
        ~ " strict_mode = false, parallel = false, ignore_errors = true,"
        ~ " max_line_size = " ~ max_line_size ~ ", encoding = " ~ quote_literal(encoding)
        ~ ") limit 1)"
    ).rows[0][0]) %}
    {% set names = [] %}
    {% set taken = [] %}
    {% for field in header | reject('none') %}
        {% set name = field | replace('\ufeff', '') | replace('\u00ef\u00bb\u00bf', '') | trim %}
        {% set name = name if name else 'column' ~ loop.index0 %}
        {% set unique = namespace(name=name) %}
        {% for n in range(1, header | length + 1) %}
            {% if unique.name | lower in taken %}
                {% set unique.name = name ~ '_' ~ n %}
            {% endif %}
        {% endfor %}
        {% do names.append(unique.name) %}
        {% do taken.append(unique.name | lower) %}
    {% endfor %}
    {{ return(names) }}
{% endmacro %}


{#
  A line longer than max_line_size is a rejected line (DuckDB's error names
  the size only): stops the load with its number and the column in which it
  runs long, found from the start of the line that the reject keeps.
#}
{% macro online_retail_refuse_long_line(file, columns, delim, max_line_size) %}
    {% set long = run_query(
        "select line, error_message, csv_line from online_retail_rejects"
        ~ " where error_type = 'LINE SIZE OVER MAXIMUM' order by line limit 1"
    ).rows %}
    {% if long | length == 0 %}
        {{ return('') }}
    {% endif %}
    {% set text = long[0][2] | string %}
    {% set field = namespace(index=0, start=0, quoted=false) %}
    {% for char in text %}
        {% if char == '"' %}
            {% set field.quoted = not field.quoted %}
        {% elif char == delim and not field.quoted %}
            {% set field.index = field.index + 1 %}
            {% set field.start = loop.index %}
        {% endif %}
    {% endfor %}
    {% set column = columns[field.index] if field.index < columns | length
        else 'field ' ~ (field.index + 1) ~ ' (the header has ' ~ (columns | length) ~ ')' %}
    {% set size = modules.re.search('Actual Size: ?([0-9]+)', long[0][1] | string) %}
    {% set value = text[field.start:] %}
    {{ exceptions.raise_compiler_error(
        "Raw file " ~ file ~ ", line " ~ (long[0][0] | int) ~ ", column " ~ column
        ~ ": the line is " ~ (size.group(1) ~ " bytes long" if size else "too long")
        ~ ", more than the maximum line size of " ~ max_line_size ~ " bytes that the CSV"
        ~ " reader accepts; column " ~ column ~ " alone holds more than " ~ (value | length)
        ~ " of them ('" ~ (value | truncate(40)) ~ "')."
        ~ (" The value starts with a quote: is its closing quote missing?"
            if value.startswith('"') else "")
        ~ " An Online Retail line is about 100 bytes: shorten that value."
    ) }}
{% endmacro %}


{#
  Bytes 0x80 to 0x9F are no ISO-8859-1 text (DuckDB refuses them with an error
  that names no file): in a file that is not UTF-8 either, they are
  Windows-1252 punctuation (€, curly quotes, dashes) or pieces of UTF-8
  characters in a file that mixes encodings. Checked on files up to 256 MiB.
#}
{% macro online_retail_refuse_c1_bytes(file, invalid_line) %}
    {% set size = run_query(
        "select size from read_blob(" ~ quote_literal(file) ~ ")"
    ).rows[0][0] %}
    {% if file.lower().endswith('.gz') or size > 268435456 %}
        {{ return('') }}
    {% endif %}
    {% set found = run_query(
        "select regexp_matches(hex(content), '^(..)*?[89][0-9A-F]')"
        ~ " from read_blob(" ~ quote_literal(file) ~ ")"
    ).rows[0][0] %}
    {% if found %}
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ file ~ " is not UTF-8 (line " ~ invalid_line ~ " is not) and"
            ~ " not ISO-8859-1 either: it holds bytes 0x80 to 0x9F, which are"
            ~ " Windows-1252 characters (such as € or curly quotes) or parts of UTF-8"
            ~ " characters in a file that mixes encodings. Save it as UTF-8."
        ) }}
    {% endif %}
{% endmacro %}


{#
  A file read as ISO-8859-1 because some line is not UTF-8 must not hold
  UTF-8 characters elsewhere: read as ISO-8859-1 they would turn into two
  characters each (é into Ã©) without any error. Such a file mixes encodings.
#}
{% macro online_retail_refuse_mixed_encoding(file, invalid_line) %}
    {% set utf8 = run_query(
        "select rowid + 2, regexp_extract(cast(t as varchar),"
        ~ " '.{0,30}[\\x{00C2}-\\x{00F4}][\\x{0080}-\\x{00BF}].{0,10}')"
        ~ " from online_retail_text as t"
        ~ " where regexp_matches(cast(t as varchar),"
        ~ " '[\\x{00C2}-\\x{00F4}][\\x{0080}-\\x{00BF}]')"
        ~ " order by rowid limit 1"
    ).rows %}
    {% if utf8 | length > 0 %}
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ file ~ " mixes encodings: line " ~ invalid_line
            ~ " is not UTF-8, but line " ~ utf8[0][0] ~ " holds UTF-8 characters"
            ~ " (read as ISO-8859-1: '" ~ utf8[0][1] ~ "'). Save the whole file in one"
            ~ " encoding (UTF-8), or set the var raw_encoding."
        ) }}
    {% endif %}
{% endmacro %}


{#
  Refuses what no CSV reading mends, before DuckDB's own, vaguer errors: an
  .xlsx that is not a zip archive, a .gz that is not gzip, and (in a plain
  CSV) NUL bytes, which mean UTF-16 or a binary file, or other control bytes,
  which no text file holds. DuckDB reads a blob whole, so only files up to
  256 MiB are checked, in their first 4 KiB; on larger ones DuckDB's own
  error (which names the file) stands.
#}
{% macro online_retail_refuse_binary(file, size) %}
    {% if size > 268435456 %}
        {{ return('') }}
    {% endif %}
    {% set head = run_query(
        "select hex(content[1:4096]) from read_blob(" ~ quote_literal(file) ~ ")"
    ).rows[0][0] %}
    {% if file.lower().endswith('.xlsx') %}
        {% if not head.startswith('504B0304') %}
            {{ exceptions.raise_compiler_error(
                "Raw file " ~ file ~ " is not an Excel workbook: an .xlsx file is a"
                ~ " zip archive, and this one does not start like one. Save it again"
                ~ " from Excel as .xlsx, or export the sheet as a UTF-8 CSV."
            ) }}
        {% endif %}
        {{ return('') }}
    {% endif %}
    {% if file.lower().endswith('.gz') %}
        {% if not head.startswith('1F8B') %}
            {{ exceptions.raise_compiler_error(
                "Raw file " ~ file ~ " is not gzip-compressed although its name"
                ~ " ends in .gz. Rename it to .csv, or compress it with gzip."
            ) }}
        {% endif %}
        {{ return('') }}
    {% endif %}
    {% set nul = modules.re.match('^(..)*?00', head) %}
    {% set control = modules.re.match('^(..)*?(0[1-8]|0B|0C|0E|0F|1[0-9A-F])', head) %}
    {% if nul %}
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ file ~ " holds NUL bytes in its first 4 KiB: it is"
            ~ " UTF-16 or not a text file. Save it as a UTF-8 or ISO-8859-1 CSV."
        ) }}
    {% elif control %}
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ file ~ " holds control bytes (byte 0x"
            ~ control.group(2) ~ " at offset " ~ ((control.end() // 2) - 1)
            ~ ") in its first 4 KiB: it is not a text file. Save it as a UTF-8"
            ~ " or ISO-8859-1 CSV."
        ) }}
    {% endif %}
{% endmacro %}


{#
  Checks that the eight columns of the Online Retail file are there and that
  there is at least one line; returns the format of InvoiceDate, detected from
  its first value unless var raw_date_format names one.
#}
{% macro online_retail_check_columns(file) %}
    {% set found = run_query("describe online_retail_text").columns[0].values() %}
    {% set missing = [] %}
    {% for column in online_retail_columns() %}
        {% if column not in found %}
            {% do missing.append(column) %}
        {% endif %}
    {% endfor %}
    {% if missing %}
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ file ~ " lacks column(s) " ~ (missing | join(', '))
            ~ ". Found: " ~ (found | join(', ')) ~ ". Expected: "
            ~ (online_retail_columns() | join(', ')) ~ "."
        ) }}
    {% endif %}
    {% set first = run_query(
        'select rowid + 2, "InvoiceDate" from online_retail_text'
        ~ ' where "InvoiceDate" is not null order by rowid limit 1'
    ).rows %}
    {% if first | length == 0 %}
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ file ~ " has a header but no invoice lines."
        ) }}
    {% endif %}
    {% set configured = var('raw_date_format', 'auto') %}
    {% if configured != 'auto' %}
        {{ return(configured) }}
    {% endif %}
    {% set shapes = [
        ('^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}$', '%Y-%m-%d %H:%M:%S'),
        ('^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}$', '%Y-%m-%d %H:%M'),
        ('^\\d{1,2}/\\d{1,2}/\\d{4} \\d{1,2}:\\d{2}$', '%m/%d/%Y %H:%M'),
        ('^\\d{1,2}-[A-Za-z]{3}-\\d{2}$', '%d-%b-%y'),
        ('^\\d+(\\.\\d+)?$', 'excel_serial'),
    ] %}
    {% for pattern, date_format in shapes %}
        {% if modules.re.match(pattern, first[0][1]) %}
            {{ return(date_format) }}
        {% endif %}
    {% endfor %}
    {{ exceptions.raise_compiler_error(
        "Raw file " ~ file ~ ", column InvoiceDate, line " ~ first[0][0] ~ ": '"
        ~ first[0][1] ~ "' has no known date format. Set the var raw_date_format"
        ~ " (a strptime format such as '%d/%m/%Y %H:%M')."
    ) }}
{% endmacro %}


{% macro online_retail_columns() %}
    {{ return([
        'InvoiceNo', 'StockCode', 'Description', 'Quantity',
        'InvoiceDate', 'UnitPrice', 'CustomerID', 'Country'
    ]) }}
{% endmacro %}


{#
  Stops the load on the first value that cannot be typed, or a missing value
  where one is required, naming the column, the line and the value. All the
  checks run in one scan of the text table: on 54 million lines one scan per
  check would cost more than the load.
#}
{% macro online_retail_check_values(file, date_format) %}
    {#
      A whole number is typed through decimal(18, 3). One too long for it (20
      digits, say) is no "not a whole number" but out of range: where that
      cast fails, the value is tried as a double, for those lines only.
    #}
    {% set whole = {} %}
    {% for column in ['Quantity', 'CustomerID'] %}
        {% set value = 'try_cast("' ~ column ~ '" as decimal(18, 3))' %}
        {% set double = 'try_cast("' ~ column ~ '" as double)' %}
        {% set too_long = 'coalesce(isfinite(' ~ double ~ ') and ' ~ double ~ ' = round('
            ~ double ~ ') and abs(' ~ double ~ ') > 2147483647, false)' %}
        {% do whole.update({column: {
            'not_whole': 'case when ' ~ value ~ ' is not null then ' ~ value ~ ' <> round('
                ~ value ~ ') else not ' ~ too_long ~ ' end',
            'out_of_range': 'case when ' ~ value ~ ' is not null then abs(' ~ value
                ~ ') > 2147483647 else ' ~ too_long ~ ' end',
        }}) %}
    {% endfor %}
    {% set checks = [
        ('InvoiceNo', 'is missing', '"InvoiceNo" is null'),
        ('StockCode', 'is missing', '"StockCode" is null'),
        ('Quantity', 'is not a whole number', whole.Quantity.not_whole),
        ('InvoiceDate', 'is not a date in the format ' ~ date_format,
            online_retail_parse_date('"InvoiceDate"', date_format) ~ ' is null'),
        ('UnitPrice', 'is not a number',
            'try_cast("UnitPrice" as decimal(18, 3)) is null'),
        ('CustomerID', 'is not a whole number',
            '"CustomerID" is not null and ' ~ whole.CustomerID.not_whole),
        ('Quantity', 'is out of range (more than 2147483647 units either way)',
            whole.Quantity.out_of_range),
        ('CustomerID', 'is out of range (more than 2147483647)',
            '"CustomerID" is not null and ' ~ whole.CustomerID.out_of_range),
    ] %}
    {% set header = '"InvoiceNo" = \'InvoiceNo\' and "Quantity" = \'Quantity\'' %}
    {% set aggregates = [
        "count(*) filter (where " ~ header ~ "), min(rowid) filter (where " ~ header ~ ") + 2"
    ] %}
    {% for column, problem, condition in checks %}
        {% do aggregates.append(
            "count(*) filter (where " ~ condition ~ "),"
            ~ " min(rowid) filter (where " ~ condition ~ ") + 2,"
            ~ ' arg_min(coalesce("' ~ column ~ '", \'\'), rowid) filter (where '
            ~ condition ~ ")"
        ) %}
    {% endfor %}
    {% set found = run_query(
        "select " ~ (aggregates | join(", ")) ~ " from online_retail_text"
    ).rows[0] %}
    {% if found[0] > 0 %}
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ file ~ ", line " ~ found[1] ~ " repeats the header line ("
            ~ found[0] ~ " time(s)): were several files joined into one, or one file"
            ~ " appended to itself? Keep a single header at the top, and each invoice"
            ~ " line once."
        ) }}
    {% endif %}
    {% set details = [] %}
    {% for column, problem, condition in checks %}
        {% set bad_lines = found[3 * loop.index0 + 2] %}
        {% if bad_lines > 0 %}
            {% do details.append(
                "column " ~ column ~ ", line " ~ found[3 * loop.index0 + 3] ~ ": '"
                ~ found[3 * loop.index0 + 4] ~ "' " ~ problem
                ~ " (" ~ bad_lines ~ " line(s) like this)"
            ) %}
        {% endif %}
    {% endfor %}
    {% if details %}
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ file ~ ": " ~ (details | join("; "))
        ) }}
    {% endif %}
{% endmacro %}


{% macro online_retail_parse_date(column, date_format) %}
    {% if date_format == 'excel_serial' %}
        {# Excel stores a day count from 1899-12-30; round to the second. #}
        {{ return(
            "timestamp '1899-12-30' + to_seconds(round(try_cast("
            ~ column ~ " as double) * 86400))"
        ) }}
    {% endif %}
    {{ return("try_strptime(" ~ column ~ ", " ~ quote_literal(date_format) ~ ")") }}
{% endmacro %}


{% macro online_retail_typed_columns(date_format) %}
    {{ return(
        'rowid + 1 as line_number,'
        ~ ' "InvoiceNo" as invoice_no,'
        ~ ' "StockCode" as stock_code,'
        ~ ' "Description" as description,'
        ~ ' cast(cast("Quantity" as decimal(18, 3)) as integer) as quantity,'
        ~ ' cast(' ~ online_retail_parse_date('"InvoiceDate"', date_format)
        ~ ' as timestamp) as invoice_date,'
        ~ ' cast("UnitPrice" as decimal(18, 3)) as unit_price,'
        ~ ' cast(cast("CustomerID" as decimal(18, 3)) as integer) as customer_id,'
        ~ ' "Country" as country'
    ) }}
{% endmacro %}
