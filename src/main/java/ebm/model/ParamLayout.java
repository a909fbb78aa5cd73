package ebm.model;

import java.util.List;

/** The named tensors of a model, laid out back to back in one flat buffer (one allocation, one optimizer pass). */
public record ParamLayout(List<ParamView> views) {

    public ParamLayout {
        views = List.copyOf(views);
        int expected = 0;
        for (ParamView v : views) {
            if (v.offset() != expected) {
                throw new IllegalArgumentException("parameter " + v.name() + " starts at " + v.offset() + ", expected " + expected);
            }
            expected += v.size();
        }
    }

    public int size() {
        return views.isEmpty() ? 0 : views.getLast().offset() + views.getLast().size();
    }

    public ParamView view(String name) {
        for (ParamView v : views) {
            if (v.name().equals(name)) return v;
        }
        throw new IllegalArgumentException("no parameter named " + name);
    }

    /** Builds a layout from (name, rows, cols, role) entries in order. */
    public static final class Builder {
        private final java.util.ArrayList<ParamView> views = new java.util.ArrayList<>();
        private int offset;

        public Builder add(String name, int rows, int cols, ParamView.Role role) {
            views.add(new ParamView(name, offset, rows, cols, role));
            offset += rows * cols;
            return this;
        }

        public ParamLayout build() {
            return new ParamLayout(views);
        }
    }
}
