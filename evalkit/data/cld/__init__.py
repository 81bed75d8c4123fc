"""Raw Client Level Data (CLD): its layout, the NHS England transformation in DuckDB SQL, and
the ASCOF 3D check (`evalkit ascof`)."""
