package ebm.backend.cuda.kernels;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the {@code extern "C" __global__} signatures of kernels/*.cu and the typed entries of DeviceKernels (from
 * their source text, so no compiler flag is needed) and lists every way the two disagree. The driver checks only
 * each argument's size and the host build only their count, so this is what catches two swapped pointers, an int
 * where a long long is expected, or a kernel without an entry.
 */
final class KernelSignatures {
    private KernelSignatures() {}

    /** A kernel parameter: its C type as written (const and restrict dropped) and its name. */
    record CParam(String type, String name) {}

    record CKernel(String file, String name, List<CParam> params) {}

    /** A Java parameter, and one link of the marshalling chain ({@code .i64(x)}: op i64, argument x). */
    record JParam(String type, String name) {}

    record Marshal(String op, String argument) {}

    /**
     * A typed entry: its method name, the kernel-file section it sits in, its parameters after the grid, and what its
     * body launches (wellFormed: the body is the one launch statement of the expected form; the kernel is named even
     * when it is not, so the report does not add that the kernel has no entry).
     */
    record JEntry(String method, String section, String gridParameter, List<JParam> params, String gridArgument,
                  String kernel, boolean wellFormed, List<Marshal> chain, String body) {}

    private static final Pattern C_KERNEL = Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+void\\s+(\\w+)\\s*\\(([^)]*)\\)");
    private static final Pattern SECTION = Pattern.compile("//\\s*-+\\s*(\\w+\\.cu)\\b");
    private static final Pattern METHOD = Pattern.compile(
            "public\\s+void\\s+(\\w+)\\s*\\(([^)]*)\\)\\s*\\{(.*?)\\n    \\}", Pattern.DOTALL);
    private static final Pattern LAUNCH = Pattern.compile(
            "launch\\(\\s*(\\w+)\\s*,\\s*\"(\\w+)\"\\s*,\\s*(\\w+)\\s*->\\s*(\\w+)((?:\\s*\\.\\s*\\w+\\(\\s*\\w+\\s*\\))*)\\s*\\)\\s*;");
    private static final Pattern LINK = Pattern.compile("\\.\\s*(\\w+)\\(\\s*(\\w+)\\s*\\)");

    /** The Java type each C parameter type is passed as; anything else has no entry type (a struct by value, say). */
    static String javaType(String cType) {
        if (cType.contains("*")) return "long"; // a device address
        return switch (cType) {
            case "long long", "unsigned long long", "int64_t", "uint64_t" -> "long";
            case "int", "unsigned", "unsigned int", "int32_t", "uint32_t" -> "int";
            case "float" -> "float";
            case "double" -> "double";
            default -> null;
        };
    }

    /** The KernelArgs call that writes a Java value of this type. */
    static String marshalOf(String javaType) {
        return switch (javaType) {
            case "long" -> "i64";
            case "int" -> "i32";
            case "float" -> "f32";
            case "double" -> "f64";
            default -> null;
        };
    }

    /** snake_case to camelCase: exp_avg_sq → expAvgSq, g0 → g0. */
    static String camel(String snake) {
        StringBuilder out = new StringBuilder();
        boolean upper = false;
        for (char c : snake.toCharArray()) {
            if (c == '_') {
                upper = out.length() > 0;
                continue;
            }
            out.append(upper ? Character.toUpperCase(c) : c);
            upper = false;
        }
        return out.toString();
    }

    /** The typed entry's name for a kernel: ebm_adamw_step_f32 → adamwStepF32. */
    static String methodName(String kernel) {
        return camel(kernel.startsWith("ebm_") ? kernel.substring(4) : kernel);
    }

    /**
     * The source without block comments and, unless keepLineComments, without line comments (DeviceKernels' section
     * markers are line comments); string literals are copied as they are, and a comment marker inside a line
     * comment or a string ("kernels/*.cu") starts nothing.
     */
    static String withoutComments(String source, boolean keepLineComments) {
        StringBuilder out = new StringBuilder(source.length());
        int i = 0, n = source.length();
        while (i < n) {
            char c = source.charAt(i);
            if (c == '"') {
                int end = i + 1;
                while (end < n && source.charAt(end) != '"' && source.charAt(end) != '\n') end += source.charAt(end) == '\\' ? 2 : 1;
                end = Math.min(n, end + 1);
                out.append(source, i, end);
                i = end;
            } else if (source.startsWith("//", i)) {
                int end = source.indexOf('\n', i);
                end = end < 0 ? n : end;
                if (keepLineComments) out.append(source, i, end);
                i = end;
            } else if (source.startsWith("/*", i)) {
                int end = source.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                out.append(' ');
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** Every extern "C" __global__ entry point of one .cu file's text. */
    static List<CKernel> parseC(String file, String source) {
        List<CKernel> kernels = new ArrayList<>();
        Matcher m = C_KERNEL.matcher(withoutComments(source, false));
        while (m.find()) {
            List<CParam> params = new ArrayList<>();
            String list = m.group(2).trim();
            if (!list.isEmpty() && !list.equals("void")) {
                for (String raw : list.split(",")) {
                    String p = raw.replaceAll("\\b(const|__restrict__|__restrict)\\b", " ").replace("*", " * ").trim()
                            .replaceAll("\\s+", " ");
                    int cut = p.lastIndexOf(' ');
                    String name = cut < 0 ? p : p.substring(cut + 1);
                    String type = cut < 0 ? "" : p.substring(0, cut).replace(" *", "*").trim();
                    params.add(new CParam(type, name));
                }
            }
            kernels.add(new CKernel(file, m.group(1), params));
        }
        return kernels;
    }

    /** Every public void method of DeviceKernels' source whose first parameter is a Grid: the typed entries. */
    static List<JEntry> parseJava(String source) {
        String code = withoutComments(source, true);
        List<Integer> sectionStarts = new ArrayList<>();
        List<String> sectionNames = new ArrayList<>();
        Matcher s = SECTION.matcher(code);
        while (s.find()) {
            sectionStarts.add(s.start());
            sectionNames.add(s.group(1));
        }
        List<JEntry> entries = new ArrayList<>();
        Matcher m = METHOD.matcher(code);
        while (m.find()) {
            List<JParam> params = new ArrayList<>();
            for (String raw : m.group(2).split(",")) {
                String[] words = raw.trim().split("\\s+");
                if (words.length == 2) params.add(new JParam(words[0], words[1]));
                else if (!raw.isBlank()) params.add(new JParam(raw.trim(), ""));
            }
            String body = withoutComments(m.group(3), false).trim();
            if (params.isEmpty() || !params.get(0).type().equals("Grid")) { // a composition of entries, not an entry
                if (body.matches("(?s).*\\blaunch\\(.*")) {
                    entries.add(new JEntry(m.group(1), null, null, params, null, null, false, List.of(), body));
                }
                continue;
            }
            String section = null;
            for (int k = 0; k < sectionStarts.size(); k++) if (sectionStarts.get(k) < m.start()) section = sectionNames.get(k);
            Matcher launch = LAUNCH.matcher(body);
            String kernel = null, gridArgument = null;
            boolean wellFormed = launch.matches() && launch.group(3).equals(launch.group(4));
            List<Marshal> chain = new ArrayList<>();
            if (wellFormed) {
                gridArgument = launch.group(1);
                kernel = launch.group(2);
                Matcher link = LINK.matcher(launch.group(5));
                while (link.find()) chain.add(new Marshal(link.group(1), link.group(2)));
            } else {
                Matcher named = Pattern.compile("\"(\\w+)\"").matcher(body);
                if (named.find()) kernel = named.group(1);
            }
            entries.add(new JEntry(m.group(1), section, params.get(0).name(), params.subList(1, params.size()),
                    gridArgument, kernel, wellFormed, chain, body));
        }
        return entries;
    }

    /** What the comparison saw, and every disagreement found (empty when each kernel has its exact entry). */
    record Report(int kernels, int parameters, int entries, List<String> problems) {}

    static Report compare(List<CKernel> kernels, List<JEntry> entries) {
        List<String> problems = new ArrayList<>();
        Map<String, JEntry> byKernel = new LinkedHashMap<>();
        for (JEntry e : entries) {
            if (e.gridParameter() == null) {
                problems.add(e.method() + " launches a kernel but takes no Grid first: only typed entries may launch: " + e.body());
                continue;
            }
            if (!e.wellFormed()) {
                problems.add(e.method() + ": the body is not the one statement launch(grid, \"<kernel>\", args -> args"
                        + ".i64(...)...): " + e.body());
            }
            if (e.kernel() != null && byKernel.putIfAbsent(e.kernel(), e) != null) {
                problems.add(e.kernel() + " has two typed entries: " + byKernel.get(e.kernel()).method() + " and " + e.method());
            }
        }
        int parameters = 0;
        Map<String, CKernel> known = new LinkedHashMap<>();
        for (CKernel k : kernels) {
            if (known.putIfAbsent(k.name(), k) != null) problems.add(k.name() + " is declared twice (" + k.file() + ")");
            parameters += k.params().size();
            JEntry e = byKernel.get(k.name());
            if (e == null) {
                problems.add(k.name() + " (" + k.file() + ") has no typed entry in DeviceKernels");
                continue;
            }
            compareOne(k, e, problems);
        }
        for (JEntry e : byKernel.values()) {
            if (!known.containsKey(e.kernel())) problems.add(e.method() + " launches " + e.kernel() + ", which no kernels/*.cu declares");
        }
        return new Report(kernels.size(), parameters, entries.size(), problems);
    }

    private static void compareOne(CKernel k, JEntry e, List<String> problems) {
        String where = k.name() + " (" + k.file() + ") ~ " + e.method();
        if (!e.method().equals(methodName(k.name()))) problems.add(where + ": the method should be named " + methodName(k.name()));
        if (!k.file().equals(e.section())) problems.add(where + ": sits in the " + e.section() + " section, not " + k.file() + "'s");
        if (e.wellFormed() && !e.gridParameter().equals(e.gridArgument())) {
            problems.add(where + ": launches on " + e.gridArgument() + ", not its Grid parameter " + e.gridParameter());
        }
        if (k.params().size() != e.params().size()) {
            problems.add(where + ": " + k.params().size() + " C parameters, " + e.params().size() + " Java parameters after the grid");
        }
        for (int i = 0; i < Math.min(k.params().size(), e.params().size()); i++) {
            CParam c = k.params().get(i);
            JParam j = e.params().get(i);
            String want = javaType(c.type());
            if (want == null) problems.add(where + ": parameter " + i + " (" + c.type() + " " + c.name() + ") has no Java type");
            else if (!want.equals(j.type())) {
                problems.add(where + ": parameter " + i + " is " + c.type() + " " + c.name() + " (a Java " + want + "), not "
                        + j.type() + " " + j.name());
            }
            if (!camel(c.name()).equals(j.name())) {
                problems.add(where + ": parameter " + i + " is " + c.name() + " in C, so " + camel(c.name()) + " in Java, not " + j.name());
            }
        }
        if (!e.wellFormed()) return; // reported already; its chain cannot be read
        if (e.chain().size() != e.params().size()) {
            problems.add(where + ": marshals " + e.chain().size() + " values for " + e.params().size() + " parameters");
        }
        for (int i = 0; i < Math.min(e.chain().size(), e.params().size()); i++) {
            JParam j = e.params().get(i);
            Marshal link = e.chain().get(i);
            if (!link.argument().equals(j.name())) {
                problems.add(where + ": value " + i + " marshalled is " + link.argument() + ", but parameter " + i + " is " + j.name());
            }
            String op = marshalOf(j.type());
            if (!link.op().equals(op)) {
                problems.add(where + ": " + j.name() + " (" + j.type() + ") is marshalled with ." + link.op() + ", not ." + op);
            }
        }
    }
}
